"""Running a pooled sentence-embedding graph with ONNX Runtime: the tokeniser of the model it
was exported from, length-sorted batches, unit rows. The graph is `e5_onnx_build`'s: inputs
INPUTS (int64, (batch, tokens)), one output (float32, (batch, dim)), mean-pooled, not normalised."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from rag.embedders.base import normalise

INPUTS = ("input_ids", "attention_mask")
MAX_TOKENS = 512  # the model's positions, as sentence-transformers truncates (sentence_bert_config.json)


class OnnxSession:
    """Tokeniser (the torch model's own) + an ONNX Runtime session of the pooled graph.

    ``encode(texts)`` -> float32 (len(texts), 384), unit rows, in the order given."""

    def __init__(self, model_path: Path, tokenizer_dir: Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # a spinning worker thread burns a core the other processes on a shared machine need
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # longest first, like sentence-transformers
        out = np.empty((len(texts), 0), np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            enc = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=MAX_TOKENS,
                                 return_tensors="np")
            vectors = self.session.run(None, {name: enc[name].astype(np.int64) for name in INPUTS})[0]
            if out.shape[1] == 0:
                out = np.empty((len(texts), vectors.shape[1]), np.float32)
            out[rows] = vectors
        return normalise(out)
