"""Matching names across scripts and spellings.

Korean notes write AI terms either way: "드롭아웃" or "Dropout", "오토인코더" or "AutoEncoder",
"구글" or "Google", and model names with or without spaces and hyphens ("GPT-4", "GPT4",
"Chat GPT", "ChatGPT"). Two tools here:

- ``skeleton``: a consonant skeleton shared by an English word and its Hangul loanword
  rendering. Hangul syllables are decomposed into jamo with Unicode's canonical decomposition
  (``unicodedata``), English letters go through the loanword correspondences of the National
  Institute of Korean Language's 외래어 표기법 (b/p/f/v -> ㅂ/ㅍ, a final "er" unwritten,
  "-tion" -> 션, ...), vowels are dropped, and both sides meet as classes (K, T, P, S, J, L, M,
  N, NG, H). No maintained library maps English spellings to Hangul loanwords (romanizers go
  the other way and spell "드롭아웃" as "deuropaus"), so this small table is ours; the glossary
  (rag/data/glossary.tsv) stays as the supplement for terms that are translated, not
  transliterated.
- ``compact``: a model or product name in one canonical form (lower case, no spaces, hyphens
  or dots between its parts), and ``mentions`` to find it in text with the same folding, so
  "GPT-4" matches "GPT 4" and "gpt4" but never "GPT-3" or "GPT-40".
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

# Initial consonants U+1100..U+1112 and final consonants U+11A8..U+11C2, as classes. The
# silent initial ㅇ is empty; a final ㅅ is how loanwords write a final t (로봇, 인터넷).
_INITIAL = ["K", "K", "N", "T", "T", "L", "M", "P", "P", "S", "S", "", "J", "J", "J", "K", "T", "P", "H"]
_FINAL = ["K", "K", "K", "N", "N", "N", "T", "L", "L", "L", "L", "L", "L", "L", "L", "M", "P", "P", "T", "T",
          "NG", "J", "J", "K", "T", "P", "H"]
_VOWELS = set("aeiouy")
# English spellings to classes, longest first (외래어 표기법's correspondences, simplified).
_EN_RULES = [
    ("tion", "SN"), ("ssion", "SN"), ("sion", "JN"), ("ss", "S"), ("ture", "J"), ("tch", "J"), ("sch", "SK"), ("ch", "J"), ("sh", "S"),
    ("th", "S"), ("ph", "P"), ("ck", "K"), ("ng", "NG"), ("gh", ""), ("wh", ""), ("qu", "K"), ("x", "KS"),
    ("b", "P"), ("p", "P"), ("f", "P"), ("v", "P"), ("k", "K"), ("q", "K"), ("g", "K"), ("c", "K"),
    ("d", "T"), ("t", "T"), ("s", "S"), ("z", "J"), ("j", "J"), ("l", "L"), ("r", "L"), ("m", "M"),
    ("n", "N"), ("h", "H"), ("w", ""), ("y", ""),
]
MIN_SKELETON = 3  # shorter skeletons ("KL", "PT") match too many unrelated words
MIN_COMMON_SKELETON = 4  # for words that are not names: "bread" (PLT) is not 필터 or 별도


def _hangul_skeleton(word: str) -> str:
    out: list[str] = []
    final = False  # whether the last class came from a final consonant
    for ch in unicodedata.normalize("NFD", word):
        code = ord(ch)
        if 0x1100 <= code <= 0x1112:
            cls = _INITIAL[code - 0x1100]
            # A final and the next initial of one class are one sound (클로바: ㄹ+ㄹ -> l).
            if cls and not (final and out and out[-1] == cls):
                out.append(cls)
            final = False
        elif 0x11A8 <= code <= 0x11C2:
            out.append(_FINAL[code - 0x11A8])
            final = True
    return "".join(out)


def _english_skeleton(word: str) -> str:
    w = re.sub(r"([a-rt-z])\1", r"\1", word.lower())  # a doubled letter is one sound (google, llama)
    out, i = [], 0
    while i < len(w):
        ch = w[i]
        if ch in _VOWELS - {"y"} or not ch.isalpha():
            i += 1
            continue
        # An r after a vowel and not before one is unwritten in Korean (coder -> 코더).
        if ch == "r" and i > 0 and w[i - 1] in _VOWELS and (i + 1 == len(w) or w[i + 1] not in _VOWELS):
            i += 1
            continue
        if ch == "c" and i + 1 < len(w) and w[i + 1] in "eiy":  # a soft c (cell -> 셀)
            out.append("S")
            i += 1
            continue
        for spelling, cls in _EN_RULES:
            if w.startswith(spelling, i):
                out.append(cls)
                i += len(spelling)
                break
        else:
            i += 1
    return "".join(out)


# Letter names, for acronyms read letter by letter (GPT -> 지피티, CNN -> 씨엔엔).
_LETTERS = dict(zip("abcdefghijklmnopqrstuvwxyz", [
    "에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠", "엔", "오", "피", "큐",
    "알", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "지"]))
ACRONYM_MAX = 4


@lru_cache(maxsize=65536)
def skeletons(word: str) -> frozenset[str]:
    """Consonant-class skeletons of ``word`` (Hangul or Latin letters): "드롭아웃" and "dropout"
    both give "TLPT"; a short Latin word may also be an acronym read by letter names ("gpt":
    "KPT" and "JPT" of 지피티). Mixed or other scripts give no skeleton."""
    if is_hangul(word):
        return frozenset({_hangul_skeleton(word)})
    if is_latin(word):
        out = {_english_skeleton(word)}
        if len(word) <= ACRONYM_MAX:
            out.add(_hangul_skeleton("".join(_LETTERS[ch] for ch in word.lower())))
        return frozenset(out)
    return frozenset()


def is_hangul(word: str) -> bool:
    return bool(re.fullmatch(r"[가-힣]+", word))


def is_latin(word: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]+", word))


class SkeletonIndex:
    """Vocabulary words by skeleton, to find the other script's spelling of a word (built once
    per snapshot from the lexical index's vocabulary; a few ms for a few thousand words)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._by: dict[str, list[str]] = {}
        for word in vocabulary:
            if (is_hangul(word) and len(word) >= 2) or (is_latin(word) and len(word) >= 3):
                for key in skeletons(word):
                    if len(key) >= MIN_SKELETON:
                        self._by.setdefault(key, []).append(word)

    def other_script(self, word: str, name: bool = False) -> list[str]:
        """Words of the vocabulary in the other script with a skeleton in common; a short
        skeleton (three classes: 구글/google) is trusted for names only."""
        hangul = is_hangul(word)
        least = MIN_SKELETON if name else MIN_COMMON_SKELETON
        found = [w for key in skeletons(word) if len(key) >= least
                 for w in self._by.get(key, ()) if is_hangul(w) != hangul]
        return list(dict.fromkeys(found))


_SEP = re.compile(r"(?<=[A-Za-z0-9])[\s\-_.·]+(?=[A-Za-z0-9])")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[\s\-_.·]?[vV]?\d+(?:\.\d+)?[A-Za-z]?)?")


def compact(name: str) -> str:
    """Canonical form of a name: lower case, separators between letters and digits removed
    ("GPT-4" -> "gpt4", "Llama 3" -> "llama3", "YOLO v3" -> "yolov3")."""
    return _SEP.sub("", unicodedata.normalize("NFKC", name)).lower()


def fold(text: str) -> str:
    """``text`` lower-cased (NFKC), for ``mentions``."""
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=4096)
def _pattern(name: str) -> re.Pattern[str]:
    sep = r"[\s\-_.·]?"
    body = sep.join(re.escape(ch) for ch in name)
    tail = r"(?![0-9])" if name[-1].isdigit() else r"(?![a-z])"
    return re.compile(rf"(?<![a-z0-9]){body}{tail}")


def mentions(folded_text: str, name: str) -> bool:
    """Whether ``folded_text`` (from ``fold``) mentions the compacted ``name``, with or without
    separators between its characters ("chat gpt", "gpt-4"): not inside a longer Latin word,
    and a name ending in a digit not followed by another digit (gpt4 is not in "gpt40"); a
    name without a version matches its versions ("gpt" in "gpt-3")."""
    if not name:
        return False
    return _pattern(name).search(folded_text) is not None


def model_names(text: str) -> list[str]:
    """Names with a version in ``text`` ("GPT-4", "Llama 3", "YOLOv3"), compacted: a word with
    a capital letter and a number ("of 6" is no name)."""
    out = []
    for m in _NAME.finditer(text):
        name = m.group(0)
        letters = re.match(r"[A-Za-z]+", name)
        if any(ch.isdigit() for ch in name) and letters and any(ch.isupper() for ch in letters.group(0)):
            out.append(compact(name))
    return out


_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?[A-Za-z]{1,2}\b")


def size_numbers(text: str) -> list[str]:
    """Numbers that name a variant ("400B", "7B", "34B"): a number with a Latin unit."""
    return [m.group(1) for m in _SIZE.finditer(text)]


_PHRASE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ \-]+[A-Za-z][A-Za-z0-9]*)+")
_FRAME = frozenset({"what", "how", "why", "when", "which", "who", "where", "is", "are", "does", "do", "did", "can",
                    "in", "the", "a", "an", "of", "and", "or", "to", "for", "with", "on", "by", "vs", "versus"})


def phrase_names(text: str, any_case: bool) -> list[str]:
    """Names of several Latin words ("Cycle GAN", "Stable Diffusion"), compacted; in English
    text only runs of capitalised words count (``any_case`` False), in Korean text any run."""
    out = []
    for m in _PHRASE.finditer(text):
        words = [w for w in re.split(r"[ \-]+", m.group(0)) if w]
        run: list[str] = []
        for w in words + [""]:
            keep = w and w.lower() not in _FRAME and (any_case or w[0].isupper() or w[0].isdigit())
            if keep:
                run.append(w)
                continue
            if len(run) >= 2:
                out.append(compact("".join(run)))
            run = []
    return out
