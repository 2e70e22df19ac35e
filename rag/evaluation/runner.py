"""Runs a QA test set through the live search and answer services and scores every item.

Questions go through ``pipeline.searcher.run`` and ``pipeline.run`` themselves (not a copy of
them), all against one snapshot object, so the numbers describe exactly what students get.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from tqdm import tqdm

from rag.evaluation import metrics as m
from rag.evaluation.testset import QAItem
from rag.pipeline import AnswerPipeline
from rag.settings import RetrieverName, Settings
from rag.snapshot import Snapshot
from rag.types import Chunk

_TEXT_TYPES = {"txt", "md"}


def read_note_text(data: bytes) -> str | None:
    """A text note as ingest loads it: UTF-8 (BOM dropped) or CP949, newlines normalised.

    ``rag`` must not import ``ingest``, so this repeats the two lines of decoding that matter
    for offsets; a file that is neither is located through its chunks instead.
    """
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return None


def text_from_chunks(chunks: Iterable[Chunk]) -> str:
    """The document rebuilt from its chunks at their offsets; gaps (boilerplate, page breaks)
    become NUL characters, so an evidence found here has the document's own offsets."""
    chunks = list(chunks)
    buf = ["\x00"] * max((c.end for c in chunks), default=0)
    for c in chunks:
        if len(c.text) == c.end - c.start:
            buf[c.start:c.end] = c.text
    return "".join(buf)


class EvidenceLocator:
    """Finds each evidence's span(s) in its source document, as the snapshot indexed it."""

    def __init__(self, notes_dir: Path, snapshot: Snapshot) -> None:
        self.notes_dir = Path(notes_dir)
        self.docs = {d["doc"]: d for d in snapshot.documents}
        self.chunks: dict[str, list[Chunk]] = defaultdict(list)
        for c in snapshot.chunks:
            self.chunks[c.doc].append(c)
        self._texts: dict[str, str | None] = {}

    def _file_text(self, doc: str) -> str | None:
        """The note's own text when it is a text file unchanged since indexing, else None."""
        meta = self.docs[doc]
        if (meta.get("type") or Path(doc).suffix.lstrip(".").lower()) not in _TEXT_TYPES:
            return None
        root = self.notes_dir.resolve()
        path = (self.notes_dir / doc).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if meta.get("hash") and hashlib.sha256(data).hexdigest() != meta["hash"]:
            return None  # edited since the snapshot was built: its offsets would not match
        return read_note_text(data)

    def text(self, doc: str) -> str | None:
        if doc not in self._texts:
            if doc not in self.docs and doc not in self.chunks:
                self._texts[doc] = None
            else:
                found = self._file_text(doc) if doc in self.docs else None
                self._texts[doc] = found if found is not None else text_from_chunks(self.chunks.get(doc, []))
        return self._texts[doc]

    def find(self, doc: str, evidence: str) -> tuple[list[m.Span], str | None]:
        """(spans, None), or ([], why) when the evidence cannot be placed in the index."""
        text = self.text(doc)
        if text is None:
            return [], f"source not in the index: {doc}"
        spans = m.find_spans(text, evidence, doc)
        return (spans, None) if spans else ([], f"evidence not found in {doc}")


class Evaluator:
    """Scores one QA set against one snapshot; ``run`` returns the report as a plain dict."""

    def __init__(self, settings: Settings, pipeline: AnswerPipeline, k: int = 10,
                 retriever: RetrieverName | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.k = k
        self.retriever: RetrieverName = retriever or settings.retriever

    def run(self, items: Sequence[QAItem], source: Path | None = None, progress: bool | None = None) -> dict[str, Any]:
        """Every item through search (k passages) and the answer pipeline on one snapshot."""
        started = time.perf_counter()
        snap = self.pipeline.searcher.snapshot()
        locator = EvidenceLocator(self.settings.notes_dir, snap)
        if items:  # load lazy models (Kiwi, embedder) outside the timed questions
            self.pipeline.searcher.run(items[0].question, k=self.k, retriever=self.retriever, snapshot=snap)
            self.pipeline.run(items[0].question, retriever=self.retriever, snapshot=snap)
        bar = tqdm(items, desc="eval", unit="q", leave=False,  # stderr; None: only on a terminal
                   disable=None if progress is None else not progress)
        rows = [self._item(item, snap, locator) for item in bar]
        config = self._config(snap, source, len(items), time.perf_counter() - started)
        return aggregate(rows, self.k, config)

    def _item(self, item: QAItem, snap: Snapshot, locator: EvidenceLocator) -> dict[str, Any]:
        k = self.k
        evidences: list[list[m.Span]] = []
        problems: list[str] = []
        for source, evidence in ((item.source, item.evidence), (item.source2, item.evidence2)):
            if source and evidence:
                spans, why = locator.find(source, evidence)
                evidences.append(spans)
                if why:
                    problems.append(why)
        answerable = item.type != "unanswerable"
        scored = answerable and not problems
        spans = [s for group in evidences for s in group]

        result = self.pipeline.searcher.run(item.question, k=k, retriever=self.retriever, snapshot=snap)
        retrieved = [(p.chunk.doc, p.chunk.start, p.chunk.end) for p in result.passages]
        rel = [m.is_relevant(d, s, e, spans) for d, s, e in retrieved]
        answer = self.pipeline.run(item.question, retriever=self.retriever, snapshot=snap)
        # Scored text: the answer's sentences without [n] markers or the language preamble.
        body = " ".join(sent.text for sent in answer.sentences) or answer.answer
        text = "" if answer.refused else m.strip_citation_markers(body).strip()

        row: dict[str, Any] = {
            "id": item.id, "type": item.type, "lang": item.lang, "question": item.question,
            "answerable": answerable, "scored": scored, "problems": problems,
            "retrieved": [{"rank": i, "doc": d, "start": s, "end": e, "score": round(p.score, 6),
                           "relevant": rel[i - 1] if scored else None}
                          for i, ((d, s, e), p) in enumerate(zip(retrieved, result.passages), start=1)],
            "search_refused": result.refused,
            "answer": answer.answer, "refused": answer.refused,
            "citations": [{"n": c.n, "doc": c.doc, "start": c.start, "end": c.end,
                           "relevant": m.is_relevant(c.doc, c.start, c.end, spans) if scored else None}
                          for c in answer.citations],
            "retrieval_ms": result.timings_ms["total"], "answer_ms": answer.timings_ms["total"],
        }
        if scored:
            n_relevant = sum(m.is_relevant(c.doc, c.start, c.end, spans) for c in snap.chunks)
            row.update({
                "first_relevant_rank": m.first_relevant_rank(rel),
                "hit@1": m.hit_at_k(rel, 1), "hit@3": m.hit_at_k(rel, 3), "hit@5": m.hit_at_k(rel, 5),
                f"mrr@{k}": m.mrr_at_k(rel, k), f"ndcg@{k}": m.ndcg_at_k(rel, k, n_relevant),
            })
            if item.type == "multi":
                row["recall@5"] = m.recall_at_k(retrieved, evidences, 5)
        if answerable:
            row["keywords_ok"] = m.keywords_present(text, item.keywords)
            row["char_f1"] = round(m.best_char_f1(text, item.answers), 4)
        return row

    def _config(self, snap: Snapshot, source: Path | None, n: int, seconds: float) -> dict[str, Any]:
        s = self.settings
        # Ranking knobs other modules may add (read only when this Settings has them).
        extra = {name: getattr(s, name) for name in ("proximity_weight", "rerank_depth", "llm_model")
                 if name in type(s).model_fields}
        return {
            "qa_file": str(source) if source is not None else None, "n_items": n,
            "embedder": snap.embedder.id, "generator": self.pipeline.generator.name,
            "retriever": self.retriever, "k": self.k, "top_k": s.top_k,
            "refusal_threshold": s.refusal_threshold, "rrf_k": s.rrf_k, "candidates": s.candidates,
            "dense_weight": s.dense_weight, "bm25_weight": s.bm25_weight,
            "reranker": s.reranker_model if self.pipeline.searcher.reranker is not None else None,
            "snapshot": snap.id, "documents": len(snap.documents), "chunks": len(snap.chunks),
            **extra, "notes_dir": str(s.notes_dir), "warmup_questions": 1 if n else 0, "seconds": round(seconds, 2),
        }


def _rate(flags: Iterable[bool]) -> float | None:
    values = [1.0 if f else 0.0 for f in flags]
    return _r(m.mean(values))


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def metric_groups(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """The metric groups of the report for any subset of rows; None marks an empty denominator."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    scored = [r for r in answerable if r["scored"]]
    answered = [r for r in answerable if not r["refused"]]
    cited = [c for r in answered if r["scored"] for c in r["citations"]]
    out: dict[str, Any] = {
        "n": len(rows), "n_answerable": len(answerable), "n_unanswerable": len(unanswerable),
        "n_scored": len(scored),
    }
    if scored:
        out["retrieval"] = {key: _r(m.mean([r[key] for r in scored]))
                            for key in ("hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}")}
        out["retrieval"]["recall@5_multi"] = _r(m.mean([r["recall@5"] for r in scored if "recall@5" in r]))
    if answerable:
        out["answer"] = {"keyword_recall": _rate(r["keywords_ok"] for r in answerable),
                         "char_f1": _r(m.mean([r["char_f1"] for r in answerable]))}
        out["citations"] = {"precision": _rate(c["relevant"] for c in cited),
                            "coverage": _rate(bool(r["citations"]) for r in answered)}
    out["refusal"] = {"unanswerable_refused": _rate(r["refused"] for r in unanswerable),
                      "answerable_refused": _rate(r["refused"] for r in answerable)}
    retrieval_ms, answer_ms = [r["retrieval_ms"] for r in rows], [r["answer_ms"] for r in rows]
    out["latency_ms"] = {"retrieval_p50": _r(m.percentile(retrieval_ms, 50), 2),
                         "retrieval_p95": _r(m.percentile(retrieval_ms, 95), 2),
                         "answer_p50": _r(m.percentile(answer_ms, 50), 2),
                         "answer_p95": _r(m.percentile(answer_ms, 95), 2)}
    return out


def aggregate(rows: Sequence[dict[str, Any]], k: int, config: dict[str, Any]) -> dict[str, Any]:
    """The whole report: overall groups (always with every key), then by type and by lang."""
    overall = metric_groups(rows, k)
    empty_retrieval = dict.fromkeys(("hit@1", "hit@3", "hit@5", f"mrr@{k}", f"ndcg@{k}", "recall@5_multi"))
    report: dict[str, Any] = {
        "n": len(rows),
        "counts": {key: overall[key] for key in ("n_answerable", "n_unanswerable", "n_scored")},
        "retrieval": overall.get("retrieval", empty_retrieval),
        "answer": overall.get("answer", {"keyword_recall": None, "char_f1": None}),
        "citations": overall.get("citations", {"precision": None, "coverage": None}),
        "refusal": overall["refusal"],
        "latency_ms": overall["latency_ms"],
    }
    for key, field in (("by_type", "type"), ("by_lang", "lang")):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[r[field]].append(r)
        report[key] = {name: metric_groups(group, k) for name, group in sorted(groups.items())}
    report["config"] = config
    report["problems"] = [{"id": r["id"], "problem": p} for r in rows for p in r["problems"]]
    report["items"] = list(rows)
    return report
