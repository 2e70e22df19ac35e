"""Cross-lingual query expansion from a glossary kept as data (``rag/data/glossary.tsv``).

Offline there is no multilingual embedder, so an English question about Korean notes is
bridged by adding the Korean renderings of the AI terms it contains (and the English terms of
a Korean question, since the notes mix in English words).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@dataclass(frozen=True)
class Glossary:
    en_to_ko: dict[str, tuple[str, ...]]
    ko_to_en: dict[str, tuple[str, ...]]
    max_words: int

    @classmethod
    def from_tsv(cls, text: str) -> "Glossary":
        en_to_ko: dict[str, list[str]] = {}
        ko_to_en: dict[str, list[str]] = {}
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            en, _, ko = line.partition("\t")
            en = en.strip().lower()
            kos = [k.strip() for k in ko.split("|") if k.strip()]
            if not en or not kos:
                continue
            en_to_ko.setdefault(en, []).extend(kos)
            for k in kos:
                if re.search(r"[\uac00-\ud7a3]", k):
                    ko_to_en.setdefault(k, []).append(en)
        max_words = max((len(e.split()) for e in en_to_ko), default=1)
        return cls(
            {k: tuple(dict.fromkeys(v)) for k, v in en_to_ko.items()},
            {k: tuple(dict.fromkeys(v)) for k, v in ko_to_en.items()},
            max_words,
        )

    def expand_english(self, text: str) -> list[str]:
        """Korean renderings of the glossary terms in ``text``, longest phrase first."""
        words = _WORD.findall(text.lower().replace("_", " "))
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + n])
                alt = phrase.replace(" ", "-") if n > 1 else phrase
                hit = self.en_to_ko.get(phrase) or self.en_to_ko.get(alt)
                if hit is None and n == 1 and phrase.endswith("s"):
                    hit = self.en_to_ko.get(phrase[:-1])
                if hit:
                    out.extend(hit)
                    i += n
                    break
            else:
                i += 1
        return list(dict.fromkeys(out))

    def expand_korean(self, text: str) -> list[str]:
        """English glossary terms whose Korean rendering occurs in ``text``."""
        out: list[str] = []
        for ko, ens in self.ko_to_en.items():
            if len(ko) >= 2 and ko in text:
                out.extend(ens)
        return list(dict.fromkeys(out))


@lru_cache(maxsize=4)
def load_glossary(path: Path | None = None) -> Glossary:
    if path is None:
        text = resources.files("rag").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return Glossary.from_tsv(text)
