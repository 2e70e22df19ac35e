"""Runs a QA test set through the live search and answer services and scores every item.

Questions go through ``pipeline.searcher.run`` and ``pipeline.run`` themselves (not a copy of
them), all against one snapshot object, so the numbers describe exactly what students get.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from tqdm import tqdm

from rag.reading.model import semantic_embedder
from rag.evaluation import metrics as m
from rag.evaluation.korquad_metrics import short_answer_scores
from rag.evaluation.aggregate import aggregate, metric_groups  # noqa: F401 - metric_groups re-exported
from rag.evaluation.failures import classify
from rag.evaluation.testset import QAItem, testset_identity
from rag.pipeline import AnswerPipeline
from rag.settings import RetrieverName, Settings
from rag.snapshots.snapshot import Snapshot
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

    def run(self, items: Sequence[QAItem], source: Path | None = None, progress: bool | None = None,
            summary_only: bool = False) -> dict[str, Any]:
        """Every item through search (k passages) and the answer pipeline on one snapshot.

        ``summary_only`` (blind sets): the report keeps aggregates alone, no item, id or text.
        """
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
        config["qa"] = testset_identity(items, source)
        config["summary_only"] = summary_only
        return aggregate(rows, self.k, config, summary_only=summary_only)

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
                           "relevant": m.is_relevant(c.doc, c.start, c.end, spans) if scored else None,
                           "evidences": [i for i, group in enumerate(evidences)
                                         if m.is_relevant(c.doc, c.start, c.end, group)] if scored else []}
                          for c in answer.citations],
            "n_evidences": len(evidences),
            "retrieval_ms": result.timings_ms["total"], "answer_ms": answer.timings_ms["total"],
        }
        if scored:
            # the locator's chunks, read once per run (the snapshot's chunk table is read from disk
            # on demand: iterating it per item would read every chunk again)
            n_relevant = sum(m.is_relevant(c.doc, c.start, c.end, spans)
                             for chunks in locator.chunks.values() for c in chunks)
            row.update({
                "first_relevant_rank": m.first_relevant_rank(rel),
                "hit@1": m.hit_at_k(rel, 1), "hit@3": m.hit_at_k(rel, 3), "hit@5": m.hit_at_k(rel, 5),
                f"mrr@{k}": m.mrr_at_k(rel, k), f"ndcg@{k}": m.ndcg_at_k(rel, k, n_relevant),
            })
            if item.type == "multi":
                row["recall@5"] = m.recall_at_k(retrieved, evidences, 5)
        if not answer.refused:  # the answer's own words (an extractive quote keeps the notes' language)
            row["in_question_language"] = m.written_in(text) == item.lang
            # written by the configured generator, not quoted instead because its draft failed
            row["model_served"] = "fallback" not in (answer.debug or {})
        if answerable:
            row["keywords_ok"] = m.keywords_present(text, item.keywords)
            row["char_f1"] = round(m.best_char_f1(text, item.answers), 4)
        if item.type == "factoid":  # its keywords are the gold short answers (issue 28)
            short = None if answer.refused or not answer.short_answer else answer.short_answer["text"]
            em, f1 = short_answer_scores(short, item.keywords)
            row.update({"short_answer": short, "short_em": em, "short_f1": round(f1, 4)})
        elif not answer.refused:
            row["entity_named"] = entity_named(item.question, text, self.pipeline.searcher.glossary)
        if scored and "first_relevant_rank" not in row:
            row["first_relevant_rank"] = None
        cls, detail = classify(row, self.settings.top_k)
        row["failure"] = {"class": cls, "detail": detail}
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
            "refusal_threshold": self.pipeline.searcher.gate.threshold_for(semantic_embedder(snap.embedder)), "rrf_k": s.rrf_k, "candidates": s.candidates,
            "dense_weight": s.dense_weight, "bm25_weight": s.bm25_weight,
            "reranker": s.reranker_model if self.pipeline.searcher.reranker is not None else None,
            "failure_top_k": s.top_k, "snapshot": snap.id, "documents": len(snap.documents), "chunks": len(snap.chunks),
            **extra, "notes_dir": str(s.notes_dir), "warmup_questions": 1 if n else 0, "seconds": round(seconds, 2),
            "settings": recorded_settings(s),
        }


_UNRECORDED = ("token", "secret", "password", "key")


def recorded_settings(settings: Settings) -> dict[str, Any]:
    """Every setting of the run as JSON values, so a comparison can say what changed; secrets
    (names with token, secret, password, key) and the server's address are left out."""
    return {name: value for name, value in settings.model_dump(mode="json").items()
            if not any(word in name for word in _UNRECORDED) and name not in ("host", "port")}


def _mentions(text: str, term: str) -> bool:
    """``term`` (lower case) occurs in ``text`` (lower case) as a whole word where it is Latin
    or a number: "3" is not found in "2023", "bert" not in "roberta", "400" is in "400b";
    Korean terms as substrings, since particles attach to them. One Latin letter never counts."""
    if not term:
        return False
    if not term.isascii():
        return term in text
    if len(term) == 1 and term.isalpha():
        return False
    before = "a-z" if term[0].isalpha() else "0-9" if term[0].isdigit() else ""
    after = "a-z" if term[-1].isalpha() else "0-9" if term[-1].isdigit() else ""
    pattern = (f"(?<![{before}])" if before else "") + re.escape(term) + (f"(?![{after}])" if after else "")
    return re.search(pattern, text) is not None


def entity_named(question: str, answer: str, glossary: Any) -> list[str]:
    """The question's entity terms that the answer mentions (see ``_mentions``).

    The entity is the question's most salient concepts (names, numbers, Latin terms when
    there are any; else its nouns), as the query analysis weighs them for the gate; a concept
    counts as named when any of its surface forms or glossary renderings occurs in the answer.
    """
    from rag.language.query import analyze

    concepts = analyze(question, glossary).concepts
    if not concepts or not answer:
        return []
    top = max(getattr(c, "salience", 1.0) for c in concepts)
    low = answer.lower()
    return [c.surface for c in concepts if getattr(c, "salience", 1.0) >= top
            and any(_mentions(low, alt.lower()) for alt in c.alternatives)]