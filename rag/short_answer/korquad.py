"""Training examples from KorQuAD 1.0: (question, the sentence holding the gold span, the span).

The binding split (../shared/korquad/README.md): articles are numbered by their position in
``data`` (0-based); only EVEN-numbered articles may be read, trained, tuned or calibrated on.
``load_examples`` never looks at an odd article's questions: it skips odd articles before it
reads their paragraphs. Within the even articles, ``fold`` splits train from validation by
article (article index // 2 mod 4 == 3 -> validation: a quarter of the even articles).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.language.sentences import split_many

VALIDATION_FOLD = 3  # (article // 2) % FOLDS == VALIDATION_FOLD -> validation
FOLDS = 4


@dataclass(frozen=True, slots=True)
class Example:
    """One question with its gold sentence; ``start``/``end`` are the gold span's offsets in
    ``sentence`` (``sentence[start:end] == answer``)."""

    article: int
    qid: str
    question: str
    sentence: str
    answer: str
    start: int
    end: int


def fold(article: int) -> str:
    """"train" or "validation" for an even article index; ValueError for an odd one."""
    if article % 2:
        raise ValueError(f"article {article} is odd: held back (../shared/korquad/README.md)")
    return "validation" if (article // 2) % FOLDS == VALIDATION_FOLD else "train"


def load_examples(path: str | Path) -> tuple[list[Example], int]:
    """Examples of the even-numbered articles of a KorQuAD 1.0 file, and the number of
    questions skipped because their gold span crosses a sentence boundary.

    Raises FileNotFoundError / ValueError (not KorQuAD-shaped JSON) with the path in the message."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a KorQuAD 1.0 file ({exc})") from exc
    paragraphs = [(a, p) for a, article in enumerate(data) if a % 2 == 0 for p in article["paragraphs"]]
    sentences = split_many([p["context"] for _, p in paragraphs])
    out, skipped = [], 0
    for (a, p), sents in zip(paragraphs, sentences):
        context = p["context"]
        for qa in p["qas"]:
            gold = qa["answers"][0]
            g0 = gold["answer_start"]
            g1 = g0 + len(gold["text"])
            s = next((s for s in sents if s.start <= g0 and g1 <= s.end), None)
            if s is None:
                skipped += 1
                continue
            out.append(Example(a, qa["id"], qa["question"], context[s.start:s.end], gold["text"],
                               g0 - s.start, g1 - s.start))
    return out, skipped
