"""The short answer of an Answer: the exact span, inside one of its quoted and cited sentences,
that answers a factoid question (issue 28), with document offsets.

Input: the verified answer (``rag.citations.Verified``, its passages by citation number). The
quoted sentences are taken in the answer's order (the reader's, best first) with the citation
that quotes them; ``first_short_answer`` picks the first with a confident span. Output shape:
``{"text", "doc", "start", "end", "citation", "probability"}`` where ``start``/``end`` are
character offsets in the document (as ``Citation.start``) and ``text == document[start:end]``;
None when the model gives none (definitions, explanations, comparisons, low confidence).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rag.reading.kinds import spec
from rag.short_answer.model import SpanModel, first_short_answer

if TYPE_CHECKING:
    from rag.citations import Verified


def quoted_sentences(verified: "Verified") -> list[tuple[int, int, int]]:
    """``(citation n, start, end)`` of each sentence the answer quotes, offsets in the cited
    chunk's text, in the answer's order (first use), each once."""
    from rag.citations import quoted_spans  # rag.citations imports rag.answer: no cycle at import

    out: dict[tuple[int, int, int], None] = {}
    for sentence in verified.sentences:
        if sentence.unsupported:
            continue
        for n in sentence.citations:
            passage = verified.cited.get(n)
            if passage is not None:
                for a, b in quoted_spans(sentence.text, passage):
                    out.setdefault((n, a, b), None)
    return list(out)


# Words that ask for several answers at once ("각각 무슨 일을 해?", "what do both ..."): one span
# cannot answer them, whatever kind the clause is.
_SEVERAL = re.compile(r"각각|각자|둘 다|모두|\beach\b|\bboth\b", re.I)


def asks_one_fact(intent: Any) -> bool:
    """Whether the question (its ``rag.language.intent.Intent``) asks for one fact a span can give: one
    part, of a kind whose spec is factoid (a count, a date, who/where/which, or a clause without
    a question word, which the span model's answer type then decides), not asking for each of
    several things. Comparisons, definitions, methods, reasons, lists, yes/no questions
    and questions in several parts ("어떤 두 네트워크로 구성되고 각각 무슨 일을 해?") get none."""
    return (intent is not None and len(intent.parts) == 1 and spec(intent.parts[0].kind).factoid
            and not _SEVERAL.search(intent.parts[0].text))


def short_answer_of(question: str, verified: "Verified", model: SpanModel | None = None,
                    intent: Any = None) -> dict[str, Any] | None:
    """The short answer to ``question`` among ``verified``'s quoted sentences, or None.

    ``intent``: the reader's ``rag.language.intent.Intent`` of the question; when given, a question that
    does not ask for one fact (``asks_one_fact``) gets None before any span is scored, and a count
    question only a span stating a number (``KindSpec.numeric``)."""
    if intent is not None and not asks_one_fact(intent):
        return None
    numeric = intent is not None and spec(intent.parts[0].kind).numeric  # a count: only a number answers
    quoted = quoted_sentences(verified)
    texts = [verified.cited[n].chunk.text[a:b] for n, a, b in quoted]
    found = first_short_answer(question, texts, model, numeric)
    if found is None:
        return None
    i, span = found
    n, a, _ = quoted[i]
    chunk = verified.cited[n].chunk
    start = a + span.start
    end = a + span.end
    if chunk.text[start:end] != span.text or not span.text.strip():
        return None  # never a span that is not verbatim in the notes
    return {"text": span.text, "doc": chunk.doc, "start": chunk.start + start, "end": chunk.start + end,
            "citation": n, "probability": round(span.probability, 4)}
