"""KorQuAD 1.0 as an open-domain benchmark and as the reader's training data.

The file is read as published (``KorQuAD_v1.0_dev.json``: ``{"data": [{"title", "paragraphs":
[{"context", "qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}``), never
modified or copied into the repository (CC BY-ND 2.0 KR).

The split is binding (the data set's README beside the file): articles are numbered by their
position in ``data`` from 0; the questions of even-numbered articles are ours to train and tune
on; those of odd-numbered articles are held back: measured once, as aggregates only. Every
article, odd ones included, becomes a note, so an open-domain run searches all of them.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.pipeline import AnswerPipeline


class Articles(StrEnum):
    """Which articles' questions are asked."""

    EVEN = "even"  # ours: training, tuning, calibration, per-item reports
    ODD = "odd"  # held back: aggregates only, once, for a closing report


@dataclass(frozen=True)
class KorQuadItem:
    id: str
    question: str
    answers: tuple[str, ...]  # the gold answer texts (usually one)
    doc: str  # the note id of the question's article
    article: int


def load(path: Path) -> list[dict]:
    """The articles of a KorQuAD 1.0 JSON file; raises RagError for anything else."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
        if not isinstance(data, list) or not all("paragraphs" in a and "title" in a for a in data):
            raise ValueError("no list of articles with titles and paragraphs")
    except FileNotFoundError as exc:
        raise RagError(f"{path}: no such KorQuAD file") from exc
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise RagError(f"{path} is not a KorQuAD 1.0 JSON file ({exc})") from exc
    return data


def note_id(article: int) -> str:
    return f"korquad_{article:03d}.txt"


def note_text(article: dict) -> str:
    """The note of one article: its title as the first line, then its paragraphs."""
    return "\n\n".join([article["title"].replace("_", " "), *(p["context"].strip() for p in article["paragraphs"])]) + "\n"


def write_notes(articles: list[dict], notes_dir: Path) -> int:
    """Every article as a note in ``notes_dir`` (created; notes already there with the same text
    are left alone, so a re-run re-indexes nothing). Returns the number of notes."""
    notes_dir.mkdir(parents=True, exist_ok=True)
    for i, article in enumerate(articles):
        path, text = notes_dir / note_id(i), note_text(article)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return len(articles)


def items(articles: list[dict], which: Articles) -> list[KorQuadItem]:
    """The questions of the even- or odd-numbered articles, in file order."""
    parity = 0 if which == Articles.EVEN else 1
    out = []
    for i, article in enumerate(articles):
        if i % 2 != parity:
            continue
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                out.append(KorQuadItem(qa["id"], qa["question"].strip(), answers, note_id(i), i))
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


def score(pipeline: "AnswerPipeline", questions: list[KorQuadItem], k: int = 5, progress: bool | None = None
          ) -> dict[str, Any]:
    """Open-domain aggregates over ``questions`` (every one is answerable):
    - ``retrieval.hit@k``: a passage of the question's article holding a gold answer is in the top k;
    - ``answer.keyword_recall``: a gold answer is contained in our answer (whitespace ignored), the
      containment measure; ``answer.answerable_refused``: the share refused;
    - ``answer.short_answer_em`` / ``short_answer_f1`` / ``short_answer_coverage``: our short answer
      against the gold answers with KorQuAD's normalisation (``korquad_metrics``), a question
      without one scoring 0, and the share that got one;
    - ``latency_ms.answer_p50``.
    Aggregates only: nothing per question is returned (the odd articles are held back)."""
    from tqdm import tqdm

    from rag.evaluation.korquad_metrics import short_answer_scores, short_answer_summary

    hits, contained, refused, times, shorts = [], [], [], [], []
    snap = pipeline.searcher.snapshot()
    for item in tqdm(questions, desc="korquad", unit="q", leave=False, disable=None if progress is None else not progress):
        answers = [_squash(a) for a in item.answers]
        t0 = time.perf_counter()
        result = pipeline.searcher.run(item.question, k=k, snapshot=snap)
        answer = pipeline.answer(result, snap, t0)
        top = result.passages[:k]
        hits.append(any(p.chunk.doc == item.doc and any(a in _squash(p.chunk.text) for a in answers) for p in top))
        body = "" if answer.refused else _squash(" ".join(s.text for s in answer.sentences) or answer.answer)
        contained.append(any(a in body for a in answers))
        refused.append(answer.refused)
        short = None if answer.refused or not answer.short_answer else answer.short_answer["text"]
        shorts.append((*short_answer_scores(short, item.answers), short is not None))
        times.append(answer.timings_ms["total"])
    n = len(questions)
    mean = (lambda xs: round(sum(xs) / n, 4) if n else None)  # noqa: E731
    return {"n_questions": n, "retrieval": {f"hit@{k}": mean(hits)},
            "answer": {"keyword_recall": mean(contained), "answerable_refused": mean(refused),
                       **short_answer_summary(shorts)},
            "latency_ms": {"answer_p50": round(float(sorted(times)[n // 2]), 1) if n else None}}
