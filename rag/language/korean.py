"""Korean-aware text analysis shared by indexing and querying.

Kiwi morphemes let "트랜스포머의" and "트랜스포머는" meet as "트랜스포머"; Latin words and numbers
(SL, SN) are kept because the notes mix English terms into Korean sentences.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Sequence

from kiwipiepy import Kiwi

# Tags that carry meaning: nouns, numerals, verb/adjective stems, roots, Latin, numbers, hanja.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SN", "SH", "MAG"})
# Stems so common in these notes that they only add noise to lexical matching.
STOP_STEMS = frozenset({"하", "되", "있", "없", "같", "이", "않", "보", "주", "수", "것", "등", "때", "위", "통하"})
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")

# Kiwi's tokenize is not documented as thread-safe, so one lock guards the one Kiwi. Every hold
# is bounded: request texts are bounded before analysis (rag.validation), and a batch is analysed
# LOCK_BATCH texts per hold, so a question waits for at most one small batch of an ingest.
_lock = threading.Lock()
LOCK_BATCH = 32


@lru_cache(maxsize=1)
def kiwi() -> Kiwi:
    """One Kiwi per process: loading its model takes about a second."""
    return Kiwi()


def detect_lang(text: str) -> str:
    """'ko' when the text has Hangul, 'en' when it is mostly Latin, else 'ko'."""
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul == 0 and latin > 0:
        return "en"
    return "ko"


def _norm(form: str, tag: str) -> str:
    return form.lower() if tag in ("SL", "SH") else form


def _content(toks) -> list[tuple[str, str, str]]:  # noqa: ANN001 - kiwipiepy Token list
    """(token, tag, surface) of content morphemes. A noun followed by a noun-forming suffix
    (판별+자, 생성+자) also yields the joined noun, because Kiwi splits the same word either
    way depending on context ("판별자가" vs "판별자는")."""
    out: list[tuple[str, str, str]] = []
    prev = None
    for i, t in enumerate(toks):
        tag = t.tag.split("-")[0]
        if tag == "XSN" and prev is not None and prev.tag.startswith("NN") and prev.end == t.start:
            out.append((prev.form + t.form, "NNG", prev.form + t.form))
        if tag in CONTENT_TAGS and t.form not in STOP_STEMS:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if tag == "NNG" and nxt is not None and nxt.tag in ("XSV", "XSA") and nxt.start == t.end:
                tag = "VV"  # a verbal noun ("평가해", "지원한다") is a predicate
            out.append((_norm(t.form, tag), tag, t.form))
        prev = t
    return out


def content_tokens(text: str) -> list[str]:
    """Content morphemes of ``text``, lower-cased Latin, in order (duplicates kept for BM25)."""
    if not text.strip():
        return []
    with _lock:  # Kiwi's tokenize is not documented as thread-safe
        toks = kiwi().tokenize(text)
    return [t for t, _, _ in _content(toks)]


@lru_cache(maxsize=1024)
def morphemes(text: str) -> tuple:  # tuple[kiwipiepy.Token, ...]
    """All of Kiwi's morphemes of ``text`` (form, tag, start, len), cached: for follow-up
    resolution, which needs pronouns (NP), determiners (MM) and particles (J*) too."""
    if not text.strip():
        return ()
    with _lock:
        return tuple(kiwi().tokenize(text))


def morpheme_count(text: str) -> int:
    """Number of Kiwi morphemes in ``text`` (punctuation and Latin words included): the token
    count used for answers no model tokenizer produced (OpenAI ``usage``, ``max_tokens``)."""
    if not text.strip():
        return 0
    with _lock:
        return len(kiwi().tokenize(text))


_CACHE_SIZE = 50000
_cache: OrderedDict[str, list[str]] = OrderedDict()
_cache_lock = threading.Lock()


@lru_cache(maxsize=4096)
def tagged_content_tokens(text: str) -> tuple[tuple[str, str, str], ...]:
    """(normalised token, tag, surface form) of the content morphemes, for question analysis;
    cached, since answers re-analyse the same sentences when their citations are checked."""
    if not text.strip():
        return ()
    with _lock:
        toks = kiwi().tokenize(text)
    return tuple(_content(toks))


def remember(text: str, tokens: list[str]) -> None:
    """Put ``text``'s content morphemes, found by another pass of Kiwi over the same text (the
    sentence split of ``rag.language.sentences``, which the ingest runs first), in the LRU that
    :func:`content_tokens_batch` reads: the offline embedder's fit then analyses no line twice."""
    with _cache_lock:
        _cache[text] = tokens
        _cache.move_to_end(text)
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def content_tokens_batch(texts: Sequence[str]) -> list[list[str]]:
    """Batch form used at ingest; a bounded LRU spares re-analysing a text seen moments ago
    (the offline embedder's fit and the chunk embeddings share most of their texts)."""
    if not texts:
        return []
    missing = list(dict.fromkeys(t for t in texts if t not in _cache))
    if missing:
        results = []
        for i in range(0, len(missing), LOCK_BATCH):
            with _lock:
                results += list(kiwi().tokenize(missing[i : i + LOCK_BATCH]))
        for text, toks in zip(missing, results):
            _cache[text] = [t for t, _, _ in _content(toks)]
            if len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    out = []
    for t in texts:
        toks = _cache.get(t)
        if toks is None:  # evicted within this very batch (batches over the cache size)
            toks = content_tokens(t)
        out.append(list(toks))
    return out


def content_tokens_by_line(texts: Sequence[str]) -> list[list[str]]:
    """Content morphemes of each text, analysed line by line: a line shared by several texts
    (a chunk and its overlap, a line and its chunk) is analysed once (``content_tokens_batch``
    keeps an LRU of analysed pieces)."""
    pieces = [[line for line in t.split("\n") if line.strip()] for t in texts]
    flat = content_tokens_batch([p for ps in pieces for p in ps])
    out, pos = [], 0
    for ps in pieces:
        out.append([tok for toks in flat[pos : pos + len(ps)] for tok in toks])
        pos += len(ps)
    return out
