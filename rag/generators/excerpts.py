"""What a small model reads: the reader's best sentences with their context, not whole passages.

Reading a prompt token costs a small CPU model as much as writing a tenth of a token, and a
1.5B model loses the question in 1,000 tokens of notes. The reader (`rag.reader.read`, the
same reading the extractive answer quotes) has already chosen, for every part of the question,
the sentences that state what is asked; a model given those sentences, each with the sentence
before and after it (``CONTEXT`` on each side: the subject named just before, the explanation
that runs on), keeps the facts for a fraction of the tokens. Passages the reader chose nothing
from are left out; when it chose nothing at all, the top passages go in whole (the model may
still find what the reader missed, or refuse).

Shape: ``excerpts(query, passages)`` -> ``[(passage, text)]`` in the passages' rank order;
``text`` is a run of the passage's sentences, gaps marked with " … ".
"""
from __future__ import annotations

from typing import Sequence

from rag.language.query import AnalyzedQuery
from rag.reader import read
from rag.language.sentences import split_many
from rag.types import Passage

CONTEXT = 1  # sentences kept on each side of a chosen one
WHOLE_WHEN_NONE = 2  # passages given whole when the reader chose no sentence at all
GAP = " … "


def _spans(passages: Sequence[Passage]) -> list[list[tuple[int, int]]]:
    missing = [i for i, p in enumerate(passages) if not p.sentences]
    computed = dict(zip(missing, split_many([passages[i].chunk.text for i in missing]))) if missing else {}
    return [[(s.start, s.end) for s in (p.sentences or computed[i])] for i, p in enumerate(passages)]


def chosen_sentences(query: AnalyzedQuery, passages: Sequence[Passage]) -> dict[int, set[int]]:
    """Passage number (1-based) -> indexes of the sentences the reader chose (list items included)."""
    chosen: dict[int, set[int]] = {}
    for part in read(query, passages).parts:
        for choice in part.choices:
            for cand in (choice.candidate, *choice.items):
                chosen.setdefault(cand.passage, set()).add(cand.index)
    return chosen


def excerpts(query: AnalyzedQuery, passages: Sequence[Passage]) -> list[tuple[Passage, str]]:
    chosen = chosen_sentences(query, passages)
    if not chosen:
        return [(p, p.chunk.text) for p in passages[:WHOLE_WHEN_NONE]]
    spans = _spans(passages)
    out: list[tuple[Passage, str]] = []
    for number, passage in enumerate(passages, start=1):
        if number not in chosen:
            continue
        sentences = spans[number - 1]
        keep = sorted({j for i in chosen[number] for j in range(i - CONTEXT, i + CONTEXT + 1) if 0 <= j < len(sentences)})
        if not keep:  # the reader's sentence indexes always fall in the spans; a guard, not a path
            out.append((passage, passage.chunk.text))
            continue
        text = passage.chunk.text
        pieces: list[str] = []
        prev = None
        for j in keep:
            start, end = sentences[j]
            piece = text[start:end].strip()
            if prev is not None and j == prev + 1:
                gap = text[sentences[prev][1]:start]
                pieces.append(("\n" if "\n" in gap else " ") + piece)
            else:
                pieces.append((GAP if pieces else "") + piece)
            prev = j
        out.append((passage, "".join(pieces)))
    return out
