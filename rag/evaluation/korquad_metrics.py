"""KorQuAD 1.0's answer metrics: exact match and character-level F1 after its normalisation.

Our own implementation of the logic of the official evaluation script (``evaluate-v1.0.py`` of
korquad.github.io, itself derived from SQuAD v1.1's): a text is normalised by

1. replacing the quote and bracket characters ' " 《 》 < > 〈 〉 ( ) ‘ ’ with a space,
2. lower-casing,
3. deleting ASCII punctuation (Python's ``string.punctuation``),
4. collapsing whitespace runs to one space and trimming;

exact match compares the normalised strings; F1 compares the multisets of the normalised
texts' characters, spaces left out (precision = common / predicted characters, recall =
common / gold characters). With several gold answers the best score counts
(``metric_max_over_ground_truths``). The official script is not a package on PyPI, so this
short module is ours.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Iterable

_SYMBOLS = re.compile("['\"《》<>〈〉()‘’]")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """KorQuAD's normalisation (see the module docstring): "《토지》(1969년)" -> "토지 1969년"."""
    text = _SYMBOLS.sub(" ", text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised texts are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def char_f1(prediction: str, gold: str) -> float:
    """Character-level F1 in [0, 1] of the normalised texts, whitespace left out; 0.0 when they
    share no character (an empty prediction included)."""
    pred = [ch for ch in normalize_answer(prediction) if not ch.isspace()]
    ref = [ch for ch in normalize_answer(gold) if not ch.isspace()]
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over_golds(metric, prediction: str, golds: Iterable[str]) -> float:  # noqa: ANN001 - metric fn
    """The best score of ``prediction`` against any of ``golds`` (0.0 when there are none)."""
    return max((metric(prediction, g) for g in golds), default=0.0)


def short_answer_scores(prediction: str | None, golds: Iterable[str]) -> tuple[float, float]:
    """(EM, F1) of a short answer against its gold answers (best over golds), KorQuAD's
    normalisation; no short answer (None) scores (0.0, 0.0), as an unanswered KorQuAD question."""
    golds = list(golds)
    if prediction is None:
        return 0.0, 0.0
    return best_over_golds(exact_match, prediction, golds), best_over_golds(char_f1, prediction, golds)


def short_answer_summary(rows: Iterable[tuple[float, float, bool]]) -> dict[str, float | None]:
    """``answer.short_answer_em`` / ``_f1`` (means over the items with a gold short answer, an
    item without a short answer scoring 0) and ``answer.short_answer_coverage`` (share of them
    that got one), from ``(em, f1, given)`` per item; None each when there are no such items."""
    rows = list(rows)
    n = len(rows)

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / n, 4) if n else None

    return {"short_answer_em": mean([em for em, _, _ in rows]), "short_answer_f1": mean([f1 for _, f1, _ in rows]),
            "short_answer_coverage": mean([1.0 if given else 0.0 for _, _, given in rows])}
