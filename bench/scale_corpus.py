"""Synthetic snapshots of a given number of chunks for ``bench.scale``, built fast and written by
the project's own snapshot writer, so that the query side reads them as it reads any snapshot.

- Text: each chunk is note sentences (data/notes, split by Kiwi as the indexer splits them)
  drawn at random until it has ~360 characters, 100 chunks to a document. Each distinct sentence
  is analysed by Kiwi once and its morphemes reused wherever it is drawn, so the build measures
  the indexes, not Kiwi's speed.
- Dense vectors: random unit vectors, 384-d float32, in ``sqrt(n)`` topics: a vector is
  ``normalise(centre + SPREAD * g / sqrt(dim))`` with a random unit centre and Gaussian ``g``
  (cosine ~0.5 to its centre, ~0.25 between two vectors of one topic, ~0 across topics). They
  stand in for e5 vectors, which a million chunks would take days to compute on 2 cores; real
  embeddings are clustered too, but the recall measured here holds for this distribution only.
- Questions: their vectors come from ``SyntheticEmbedder``, the same distribution seeded by the
  question's text; it is passed to ``Snapshot.open`` (a bench-only embedder no registry knows).
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.embedders.base import Embedder, Kind
from rag.types import Chunk

DIM = 384
SPREAD = 3 ** 0.5  # cos(vector, centre) = 1 / sqrt(1 + SPREAD^2) = 0.5
CHUNK_CHARS = 360
PER_DOC = 100
PARAMS = "synthetic.json"  # the embedder's parameters in the snapshot's embedder/ folder
BLOCK = 65536  # vectors generated per block (bounded temporary memory)


class SyntheticEmbedder(Embedder):
    """Vectors of the synthetic topic mixture: a text's vector is drawn with a seed from its
    hash, so every worker embeds a question alike. Not in the embedder registry: this benchmark
    opens its snapshots passing the embedder to ``Snapshot.open``; ``from_snapshot`` rebuilds it
    from the parameters ``save`` wrote."""

    kind = "bench-synthetic"

    def __init__(self, topics: int, seed: int = 0, dim: int = DIM) -> None:
        self.topics, self.seed, self.dim = topics, seed, dim
        self.id = f"bench-synthetic-{dim}-{topics}-{seed}"
        self.note = "random unit vectors in topics (bench.scale_corpus)"

    @cached_property
    def centres(self) -> np.ndarray:
        c = np.random.default_rng(self.seed).standard_normal((self.topics, self.dim), dtype=np.float32)
        return c / np.linalg.norm(c, axis=1, keepdims=True)

    @classmethod
    def from_snapshot(cls, info: dict[str, Any], directory: Path, settings: Any) -> "SyntheticEmbedder":
        """The embedder ``save`` described: its parameters decide every vector."""
        params = json.loads((directory / PARAMS).read_text(encoding="utf-8"))
        return cls(int(params["topics"]), int(params["seed"]), int(params["dim"]))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / PARAMS).write_text(json.dumps({"topics": self.topics, "seed": self.seed, "dim": self.dim}),
                                        encoding="utf-8")

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(int(hashlib.sha1(text.encode()).hexdigest()[:12], 16))
            v = self.centres[rng.integers(self.topics)] + SPREAD * rng.standard_normal(self.dim, dtype=np.float32) / self.dim ** 0.5
            out[i] = v / np.linalg.norm(v)
        return out

    def corpus_vectors(self, n: int) -> np.ndarray:
        """(n, dim) float32 unit vectors of the mixture (the chunks')."""
        rng = np.random.default_rng(self.seed + 1)
        out = np.empty((n, self.dim), dtype=np.float32)
        for s in range(0, n, BLOCK):
            m = min(BLOCK, n - s)
            v = self.centres[rng.integers(0, self.topics, m)]
            v += (SPREAD / self.dim ** 0.5) * rng.standard_normal((m, self.dim), dtype=np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            out[s:s + m] = v
        return out


def analysed_sentences() -> list[tuple[str, list[list[Any]]]]:
    """Distinct note sentences (end mark added where missing), each with its Kiwi analysis as the
    indexer stores it: ``[[start, end, morphemes], ...]`` (one sentence may split in two)."""
    from bench.common import _closed, note_sentences
    from rag.language.sentences import split_many

    texts = list(dict.fromkeys(_closed(s) for s in note_sentences()))
    return [(t, [[x.start, x.end, list(x.tokens)] for x in spans]) for t, spans in zip(texts, split_many(texts))]


def synthetic_chunks(n: int, seed: int = 0) -> tuple[list[Chunk], list[dict[str, Any]], list[list[list[Any]]]]:
    """(chunks, documents, each chunk's sentences ``[start, end, morphemes]`` into its text)."""
    pool = analysed_sentences()
    rng = random.Random(seed)
    chunks: list[Chunk] = []
    sentences: list[list[list[Any]]] = []
    documents: list[dict[str, Any]] = []
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    for d in range((n + PER_DOC - 1) // PER_DOC):
        doc, offset = f"synthetic_{d:05d}.txt", 0
        count = min(PER_DOC, n - d * PER_DOC)
        for _ in range(count):
            parts, spans, size = [], [], 0
            while size < CHUNK_CHARS:
                text, analysis = pool[rng.randrange(len(pool))]
                spans.extend([a + size, b + size, toks] for a, b, toks in analysis)
                parts.append(text)
                size += len(text) + 1
            body = " ".join(parts)
            chunks.append(Chunk(doc=doc, start=offset, end=offset + len(body), text=body, id=len(chunks)))
            sentences.append(spans)
            offset += len(body) + 2
        documents.append({"doc": doc, "title": doc, "type": "txt", "pages": None, "chunks": count,
                          "hash": hashlib.sha1(doc.encode()).hexdigest(), "size": offset, "updated": now,
                          "sections": []})
    return chunks, documents, sentences
