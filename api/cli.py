"""The ``rag`` command: ingest, search, ask, eval, calibrate, serve. It sits at the edge and
wires settings to the services; the services hold the logic."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.errors import RagError
from rag.settings import RetrieverName, Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Q&A over study notes, with citations.")
log = logging.getLogger("rag")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")]
KOpt = Annotated[Optional[int], typer.Option("-k", "--k", min=1, max=50, help="Passages to retrieve")]
RetrieverOpt = Annotated[Optional[str], typer.Option(help="dense, bm25 or hybrid")]


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:
        _fail(f"invalid settings: {exc}")
        raise


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "sentence_transformers", "faiss", "bm25s", "urllib3", "filelock", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def ingest(
    directory: Annotated[Optional[Path], typer.Argument(help="Directory of documents (default: RAG_NOTES_DIR)")] = None,
    as_json: JsonOpt = False,
    refit_embedder: Annotated[bool, typer.Option(help="Refit the offline embedder on the current notes")] = False,
) -> None:
    """Sync the index with a directory of documents (txt, md, pdf, html)."""
    from ingest.pipeline import Ingestor

    settings = _settings()
    try:
        summary = Ingestor(settings, progress=None if not as_json else None).sync(directory, refit_embedder=refit_embedder)
    except RagError as exc:
        _fail(exc.message)
        return
    for failure in summary.failed:
        typer.echo(f"failed: {failure['path']}: {failure['error']}", err=True)
    if as_json:
        _print_json(summary.to_dict())
    else:
        typer.echo(summary.line())
    if summary.failed:
        raise typer.Exit(1)


def _searcher(settings: Settings):  # noqa: ANN202 - local factory
    from rag.live import LiveSnapshot
    from rag.reranker import load_reranker
    from rag.search import Searcher

    live = LiveSnapshot(settings.index_dir)
    return Searcher(settings, live.get, reranker=load_reranker(settings.reranker_model))


def _check_question(question: str, retriever: str | None, settings: Settings) -> None:
    if retriever not in (None, "dense", "bm25", "hybrid"):
        _fail("--retriever must be dense, bm25 or hybrid")
    from rag.validation import InvalidQuestion, check_question

    try:
        check_question(question, settings.max_question_chars)
    except InvalidQuestion as exc:
        _fail(exc.message)


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="The question")],
    k: KOpt = None,
    retriever: RetrieverOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ranked passages for a question, with each retriever's rank and the gate's verdict."""
    settings = _settings()
    _check_question(question, retriever, settings)
    try:
        result = _searcher(settings).run(question, k, retriever)  # type: ignore[arg-type]
    except RagError as exc:
        _fail(exc.message)
        return
    if as_json:
        _print_json(result.to_dict())
        return
    verdict = "REFUSE (weak evidence)" if result.refused else "answerable"
    typer.echo(f"evidence {result.evidence:.3f}: {verdict}; {result.timings_ms['total']:.1f} ms")
    for i, p in enumerate(result.passages, start=1):
        c = p.chunk
        where = f"{c.doc} [{c.start}:{c.end}]" + (f" § {c.section}" if c.section else "") + (f" p.{c.page}" if c.page else "")
        ranks = ", ".join(f"{n} #{r['rank']}" for n, r in p.ranks.items())
        typer.echo(f"\n[{i}] {where}  score {p.score:.4f} ({ranks})")
        typer.echo("    " + c.text[:300].replace("\n", "\n    "))


def _pipeline(settings: Settings):  # noqa: ANN202 - local factory
    from rag.pipeline import AnswerPipeline, load_generator

    return AnswerPipeline(settings, _searcher(settings), load_generator(settings))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Korean or English")],
    k: KOpt = None,
    retriever: RetrieverOpt = None,
    as_json: JsonOpt = False,
    stream: Annotated[bool, typer.Option("--stream", help="Print the answer as it is generated")] = False,
) -> None:
    """Answer a question from the notes with verified citations."""
    settings = _settings()
    _check_question(question, retriever, settings)
    try:
        pipeline = _pipeline(settings)
        if stream and not as_json:
            answer = None
            for event in pipeline.stream(question, k, retriever):  # type: ignore[arg-type]
                if event.kind == "token":
                    sys.stdout.write(str(event.data))
                    sys.stdout.flush()
                else:
                    answer = event.data
            sys.stdout.write("\n")
        else:
            answer = pipeline.run(question, k, retriever)  # type: ignore[arg-type]
    except RagError as exc:
        _fail(exc.message)
        return
    if as_json:
        _print_json(answer.to_dict())
        return
    if not stream:
        typer.echo(answer.answer)
    if answer.citations:
        typer.echo("")
    for c in answer.citations:
        where = c.doc + (f" § {c.section}" if c.section else "") + (f" p.{c.page}" if c.page else "")
        typer.echo(f"[{c.n}] {where} [{c.start}:{c.end}]")
    typer.echo(f"({answer.generator}, {answer.timings_ms.get('total', 0):.0f} ms)", err=True)


@app.command("eval")
def eval_(
    qa_file: Annotated[Path, typer.Argument(help="QA test set (JSONL), e.g. data/qa/testset.jsonl")],
    as_json: JsonOpt = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write report.json, report.md, report.png here")] = None,
    retriever: Annotated[Optional[str], typer.Option(help="dense, bm25 or hybrid (default RAG_RETRIEVER)")] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=5, max=50, help="Passages retrieved for the retrieval metrics")] = 10,
) -> None:
    """Score retrieval, answers, citations, refusals and latency on a QA test set."""
    from rag.evaluation.report import summary_text, write_report
    from rag.evaluation.runner import Evaluator
    from rag.evaluation.testset import TestsetError, load_testset

    settings = _settings()
    if retriever not in (None, "dense", "bm25", "hybrid"):
        _fail("--retriever must be dense, bm25 or hybrid")
    try:
        items = load_testset(qa_file)
    except TestsetError as exc:
        _fail(f"{qa_file}: {exc}")
        return
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {qa_file}: {getattr(exc, 'strerror', None) or exc}")
        return
    if not items:
        _fail(f"{qa_file}: no items")
    try:
        report = Evaluator(settings, _pipeline(settings), k=k, retriever=retriever).run(items, source=qa_file)  # type: ignore[arg-type]
        if out is not None:
            write_report(report, out)
    except RagError as exc:
        _fail(exc.message)
        return
    except OSError as exc:
        _fail(f"cannot write the report to {out}: {exc.strerror or exc}")
        return
    if as_json:
        _print_json(report)
    else:
        typer.echo(summary_text(report))
        if out is not None:
            typer.echo(f"report written to {out}/report.md, report.json, report.png")


@app.command()
def calibrate(
    qa_file: Annotated[Path, typer.Argument(help="QA test set (JSONL)")],
    as_json: JsonOpt = False,
    max_answerable_refused: Annotated[float, typer.Option(min=0.0, max=1.0, help="Refusal budget for answerable items")] = 0.05,
) -> None:
    """Calibrate the evidence gate's threshold on a QA set (tuning split; held-out split reported)."""
    from rag.evaluation.calibrate import calibrate as run_calibration
    from rag.evaluation.testset import TestsetError, load_testset

    settings = _settings()
    try:
        items = load_testset(qa_file)
        report = run_calibration(items, _searcher(settings), max_answerable_refused)
    except TestsetError as exc:
        _fail(str(exc))
        return
    except (OSError, RagError) as exc:
        _fail(getattr(exc, "message", None) or str(exc))
        return
    if as_json:
        _print_json(report)
        return
    typer.echo("threshold  tune: unans-refused ans-refused   held: unans-refused ans-refused")
    for row in report["sweep"]:
        t, h = row["tune"], row["held"]
        mark = "  <-" if row["threshold"] == report["threshold"] else ""
        typer.echo(f"{row['threshold']:>9.3f}  {t['unanswerable_refused']!s:>19} {t['answerable_refused']!s:>11}"
                   f"   {h['unanswerable_refused']!s:>19} {h['answerable_refused']!s:>11}{mark}")
    typer.echo(f"\nRAG_REFUSAL_THRESHOLD={report['threshold']}  (set it in the environment or .env)")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default RAG_HOST, 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default RAG_PORT, 8000)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the HTTP API and the web page with uvicorn."""
    import uvicorn

    settings = _settings()
    uvicorn.run("api.app:app_from_env", factory=True, host=host or settings.host, port=port or settings.port,
                workers=workers, log_level="info")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
