"""Building and publishing a snapshot from chunks: morphemes and vectors (both cached by text
hash), the FAISS and BM25 indexes, the chunk table; then the atomic switch of CURRENT."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rag.dense import registry as dense_registry
from rag.embedders.base import Embedder
from rag.language.korean import remember
from rag.lexical import registry as lexical_registry
from rag.settings import Settings
from rag.snapshots.format import snapshots_dir
from rag.types import Chunk

from ingest.cache import EmbeddingCache, text_hash
from ingest.splitting import embed_input
from ingest.embedder_choice import choose_embedder
from ingest.progress import bar
from ingest.publishers import index_publisher
from ingest.snapshot_writer import SnapshotWriter

ANALYZER = "kiwi-sentences-v5"  # Kiwi sentence spans + content morphemes per sentence
TOKEN_BATCH = 64  # chunks analysed per progress-bar step


@dataclass(frozen=True)
class Built:
    snapshot: str
    chunks: int
    embedder: str
    embedded: int  # chunks whose vectors were computed (not cached)


class SnapshotBuilder:
    """``publish(chunks, documents, config, refit, stage)``: write a snapshot and make it live.

    Stages reported through ``stage``: "embed", "write", "publish". Raises ``StorageFull`` when
    the disk fills (nothing published) and what the embedder raises (``ModelUnavailable``).
    """

    def __init__(self, settings: Settings, progress: bool | None) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.progress = progress

    def publish(self, chunks: list[Chunk], documents: list[dict[str, Any]], config: dict[str, Any], refit: bool,
                stage: Callable[[str], None]) -> Built:
        stage("embed")
        cache = EmbeddingCache(self.index_dir / "cache.sqlite")
        try:
            inputs = [embed_input(c) for c in chunks]
            hashes = [text_hash(t) for t in inputs]
            sentences = self._tokens(cache, inputs, hashes)  # first: the embedder reuses the analysis
            embedder = choose_embedder(self.settings, self.index_dir, chunks, refit=refit)
            vectors, embedded = self._embed(cache, embedder, inputs, hashes)
            sentence_vectors = self._embed_sentences(cache, embedder, chunks, inputs, sentences)
        finally:
            cache.close()
        stage("write")
        with bar(self.progress, 3, "writing", "step") as b:
            dense = dense_registry.dense_class_for_size(len(vectors), self.settings.dense_approximate_above).build(vectors)
            b.update(1)
            tokens = [[t for sent in chunk for t in sent[2]] for chunk in sentences]
            lexical = lexical_registry.BACKENDS[lexical_registry.BACKENDS.default].build(tokens)
            b.update(1)
            writer = SnapshotWriter(self.index_dir, keep=self.settings.keep_snapshots)
            snap_id = writer.write(chunks, documents, dense, lexical, embedder, {"config": config}, sentences,
                                   sentence_vectors)
            b.update(1)
        stage("publish")
        publisher = index_publisher(self.settings)
        if publisher is not None:  # the engine first: a crash in between leaves CURRENT to be re-published
            with bar(self.progress, len(chunks), f"publishing to {publisher.name}", "chunk") as b:
                publisher.publish(snapshots_dir(self.index_dir) / snap_id, b.update)
        writer.publish(snap_id)
        writer.prune()
        if publisher is not None:
            publisher.prune(self.settings.keep_snapshots)
        return Built(snap_id, len(chunks), embedder.id, embedded)

    def _embed(self, cache: EmbeddingCache, embedder: Embedder, inputs: list[str], hashes: list[str],
               unit: str = "chunk", before_batch: Callable[[list[int]], None] | None = None) -> tuple[np.ndarray, int]:
        """(vectors of ``inputs``, how many were embedded, not cached); ``before_batch(indices)``
        runs before each batch of inputs is embedded."""
        found = cache.get_vectors(embedder.id, hashes)
        missing = [i for i, h in enumerate(hashes) if h not in found or found[h].shape[0] != embedder.dim]
        missing = list({hashes[i]: i for i in missing}.values())
        batch = self.settings.embed_batch_size
        with bar(self.progress, len(hashes), "embedding" if unit == "chunk" else f"embedding {unit}s", unit) as b:
            b.update(len(hashes) - len(missing))  # cached vectors count as done at once
            for s in range(0, len(missing), batch):
                idx = missing[s : s + batch]
                if before_batch is not None:
                    before_batch(idx)
                vecs = embedder.embed_documents([inputs[i] for i in idx])
                new = {hashes[i]: v for i, v in zip(idx, vecs)}
                cache.put_vectors(embedder.id, new)
                found.update(new)
                b.update(len(idx))
        vectors = np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, embedder.dim), np.float32)
        return vectors.astype(np.float32), len(missing)

    def _embed_sentences(self, cache: EmbeddingCache, embedder: Embedder, chunks: list[Chunk], inputs: list[str],
                         sentences: list[list[list[Any]]]) -> list[np.ndarray]:
        """One (n_i, dim) array per chunk: the embeddings of the sentences of its text (those the
        sentence table stores, in its order), cached by text like the chunks' (rag.reading's
        question-sentence similarity reads them)."""
        kept = [[(inp[a:b], tokens) for a, b, tokens in sents if a >= len(inp) - len(c.text)]
                for c, inp, sents in zip(chunks, inputs, sentences, strict=True)]
        texts = [[t for t, _ in group] for group in kept]
        flat = [t for group in texts for t in group]
        known = [tokens for group in kept for _, tokens in group]

        def analysed(idx: list[int]) -> None:
            # the LSA embedder reads each text's Kiwi morphemes: a sentence's are known from the
            # split (rag.language.sentences, in its line's context), so Kiwi does not analyse it again
            for i in idx:
                remember(flat[i], known[i])

        vectors, _ = self._embed(cache, embedder, flat, [text_hash(t) for t in flat], unit="sentence",
                                 before_batch=analysed if embedder.kind == "offline" else None)
        out, i = [], 0
        for group in texts:
            out.append(vectors[i:i + len(group)])
            i += len(group)
        return out

    def _tokens(self, cache: EmbeddingCache, inputs: list[str], hashes: list[str]) -> list[list[list[Any]]]:
        """Sentences of each chunk's input (cached): ``[start, end, morphemes]`` with offsets
        into the input (section title line, then the chunk text). BM25 indexes all the
        morphemes; the query side reads the sentences (rag.language.sentences, rag.reader)."""
        from rag.language.sentences import split_many

        found = cache.get_tokens(ANALYZER, hashes)
        missing = list({h: i for i, h in enumerate(hashes) if h not in found}.values())
        with bar(self.progress, len(hashes), "analysing", "chunk") as b:
            b.update(len(hashes) - len(missing))
            for s in range(0, len(missing), TOKEN_BATCH):
                part = missing[s : s + TOKEN_BATCH]
                split = split_many([inputs[i] for i in part])
                new = {hashes[i]: [[x.start, x.end, list(x.tokens)] for x in sents] for i, sents in zip(part, split)}
                cache.put_tokens(ANALYZER, new)
                found.update(new)
                b.update(len(part))
        return [found[h] for h in hashes]
