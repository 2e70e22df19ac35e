"""What a follow-up question refers to, read from Kiwi's part-of-speech tags (``rag.language.korean``).

Three kinds of reference, each a closed grammatical class rather than a list of phrases:
ordinals (두 번째, the second, 마지막) point into a list the previous answer gave; demonstrative
pronouns and determiners (NP / MM: 그것, 그건, 그 모델; it, its, they, this) stand for the
previous focus; a question with no subject of its own (no name, acronym or number, at most one
common noun) is about the previous focus. Also the Korean particles that must follow a noun put
in a pronoun's place (은/는, 이/가, 을/를, 과/와). Noun phrases and a question's focus are
``rag.language.phrases``'s, the same the reader's intent reads.
"""
from __future__ import annotations

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from rag.language import phrases as _phrases
from rag.language.korean import morphemes
from rag.language.phrases import NOMINAL_TAGS, NounPhrase
from rag.language.query import QUESTION_WORDS

COORDINATORS = frozenset({",", "및", "and", "or", "그리고"})
_DEMONSTRATIVE = re.compile(r"^(이|그|저|요|고|조|여기|거기|저기)")  # 이것, 그거, 저기; not 뭐, 어디
DETERMINERS = frozenset({"이", "그", "저", "요", "고", "조"})
CONTRACTED = {"ᆫ": "는", "ㄴ": "는", "ᆯ": "를", "ㄹ": "를"}  # particles fused into a pronoun's last syllable
# each English anaphor (rag.language.phrases) with the possessive its replacement needs
EN_ANAPHORS = {w: "'s" if w in ("its", "their", "his", "her") else "" for w in _phrases.EN_ANAPHORS}
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
_KO_ORDINAL = re.compile(r"(?:(?:그|이|저)\s+)?(?:(첫|두|세|네|다섯|여섯|일곱|여덟|아홉|열|\d+)\s*번\s*째|(첫|둘|셋|넷|다섯)\s*째"
                         r"|(마지막))(?:\s*(?:것|거|꺼|항목|번))?")
_EN_ORDINAL = re.compile(r"\b(?:the\s+)?(first|second|third|fourth|fifth|sixth|last|1st|2nd|3rd|[4-9]th)"
                         r"(?:\s+(?:one|item|thing|part|point))?\b", re.I)
KO_NUMBERS = {"첫": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5, "여섯": 6, "일곱": 7,
              "여덟": 8, "아홉": 9, "열": 10}
EN_NUMBERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "1st": 1, "2nd": 2,
              "3rd": 3}
_BULLET = re.compile(r"^\s*(?:[-*•·▪]|\d+[.)]|[①-⑩])\s*(\S.*)$")
MARKS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
LAST = -1


def content_words(text: str) -> list[str]:
    """Content words of the question itself (not its anaphors), as surface forms."""
    out = []
    for t in morphemes(text):
        if t.tag in NOMINAL_TAGS or t.tag in ("VV", "VA"):
            low = t.form.lower()
            if low not in ENGLISH_STOP_WORDS and low not in QUESTION_WORDS and low not in EN_ANAPHORS:
                out.append(t.form)
    return out


def noun_phrases(text: str) -> list[NounPhrase]:
    """The noun phrases of ``text`` that can stand for a thing (``rag.language.phrases``), as a
    name is written: without trailing bound nouns ("GRU 등"), none made only of noun roots."""
    trimmed = (p.without_bound_tail(text) for p in _phrases.noun_phrases(text) if p.nominal)
    return [p for p in trimmed if p is not None]


def has_own_subject(question: str, lang: str) -> bool:
    """A name, acronym or number, or two or more common nouns of its own."""
    phrases = noun_phrases(question)
    if lang == "en":  # Kiwi tags every English word SL: a name is capitalised past the first word
        words = [(w, i) for i, w in enumerate(_EN_WORD.findall(question))]
        names = [w for w, i in words if (i > 0 and w[:1].isupper()) or w.isupper() or any(c.isdigit() for c in w)]
        common = [w for w, _ in words if w.lower() not in ENGLISH_STOP_WORDS and w.lower() not in QUESTION_WORDS
                  and w.lower() not in EN_ANAPHORS and w not in names]
        return bool(names) or len(common) >= 2
    if any(p.named for p in phrases):
        return True
    return sum(len(p.surface.split()) for p in phrases) >= 2


def answer_lists(answer: str) -> list[list[str]]:
    """The lists an answer gives, in order: its bulleted or numbered lines (or sentences), and
    each run of coordinated noun phrases in one sentence ("A와 B", "A, B, C", "A and B")."""
    text = MARKS.sub("", answer)
    sentences = [s for s in re.split(r"(?<=[.?!])\s+|\n+", text) if s.strip()]
    bullets = [m.group(1).strip() for s in sentences if (m := _BULLET.match(s))]
    if len(bullets) >= 2:
        return [[re.split(r"\s*[:：]\s*", b, maxsplit=1)[0][:80] for b in bullets]]
    lists: list[list[str]] = []
    for sentence in sentences:
        phrases, toks = noun_phrases(sentence), morphemes(sentence)
        run: list[NounPhrase] = []
        for p in [*phrases, None]:
            if p is not None and run and _coordinated(sentence, toks, run[-1].end, p.start):
                run.append(p)
                continue
            if len(run) >= 2:
                lists.append(_trim_first([r.surface for r in run]))
            run = [p] if p is not None else []
    return lists


def _trim_first(items: list[str]) -> list[str]:
    """The first phrase of a list may carry words before the list starts ("covers YOLO, SSD and
    RetinaNet": Kiwi tags every English word alike); it keeps as many words as the longest other item."""
    longest = max(len(i.split()) for i in items[1:])
    words = items[0].split()
    return [" ".join(words[-longest:]), *items[1:]] if len(words) > longest else items


def _coordinated(sentence: str, toks: tuple, a: int, b: int) -> bool:  # noqa: ANN001 - Kiwi tokens
    """Only a conjunctive particle (JC: 와/과/하고), a comma, 및 or and/or lies between a and b."""
    between = [t for t in toks if a <= t.start and t.start + t.len <= b]
    return bool(between) and all(t.tag == "JC" or t.form.lower() in COORDINATORS for t in between)


def find_ordinal(question: str, lang: str) -> tuple[int, tuple[int, int]] | None:
    m = (_EN_ORDINAL if lang == "en" else _KO_ORDINAL).search(question)
    if not m:
        return None
    if lang == "en":
        word = m.group(1).lower()
        n = LAST if word == "last" else EN_NUMBERS.get(word) or int(re.sub(r"\D", "", word) or 0)
    elif m.group(3):
        n = LAST
    else:
        word = m.group(1) or m.group(2)
        n = int(word) if word.isdigit() else KO_NUMBERS.get(word, 0)
    return (n, m.span()) if n else None


def replace_anaphors(question: str, focus: str, lang: str) -> str:
    if lang == "en":
        def sub(m: re.Match[str]) -> str:
            suffix = EN_ANAPHORS.get(m.group(0).lower())
            return m.group(0) if suffix is None else focus + suffix
        return re.sub(r"\b[A-Za-z]+\b", sub, question)
    out, pos = [], 0
    toks = morphemes(question)
    for i, t in enumerate(toks):
        if (t.tag == "NP" and _DEMONSTRATIVE.match(t.form)) or (t.tag == "MM" and t.form in DETERMINERS):
            out += [question[pos : t.start], focus]
            pos = t.start + t.len
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and nxt.tag.startswith("J") and nxt.start < pos:  # 그건 = 그거 + ㄴ, 그걸 = 그거 + ㄹ
                out.append(CONTRACTED.get(nxt.form, nxt.form))
            if t.tag == "MM" and question[pos : pos + 1] == " ":
                pos += 1
                out.append(" ")
    if not out:
        return question
    return _fix_particles("".join(out) + question[pos:], focus)


def attach_focus(question: str, focus: str, lang: str) -> str:
    if lang == "en":
        return f"{question.rstrip()} (about {focus})"
    toks = morphemes(question)
    lead = 0
    while lead < len(toks) and toks[lead].tag in ("MAJ", "IC"):  # 그럼, 그러면, 아
        lead += 1
    start = toks[lead].start if lead < len(toks) else 0
    head, rest = question[:start], question[start:]
    first = toks[lead] if lead < len(toks) else None
    joiner = "의 " if first is not None and first.tag in ("NNG", "NNP") else _topic(focus) + " "
    return f"{head}{focus}{joiner}{rest}"


def _has_batchim(word: str) -> bool:
    """Whether the word, read aloud, ends in a final consonant (which picks 은/는, 이/가, ...).
    A Latin word or acronym is read as Koreans spell it: GAN (갠), LSTM (엠) end in one; BERT
    (버트), YOLO, Discriminator (-터) do not."""
    ch = word[-1:]
    if ch.isascii() and ch.isalpha():
        return ch.lower() in "lmn" or word.lower().endswith("ng")
    return bool(ch) and "가" <= ch <= "힣" and (ord(ch) - 0xAC00) % 28 != 0


def _topic(noun: str) -> str:
    return "은" if _has_batchim(noun) else "는"


def _fix_particles(text: str, focus: str) -> str:
    """은/는, 이/가, 을/를, 과/와 right after the inserted focus follow its last syllable."""
    key = re.sub(r"[)\]\s]+$", "", focus)  # "Discriminator(판별자)" is read by its gloss
    if not re.search(r"[가-힣A-Za-z]$", key):
        return text
    pairs = {"은": "는", "는": "은", "이": "가", "가": "이", "을": "를", "를": "을", "과": "와", "와": "과"}
    batchim = _has_batchim(key)
    right = {"은": batchim, "이": batchim, "을": batchim, "과": batchim,
             "는": not batchim, "가": not batchim, "를": not batchim, "와": not batchim}

    def sub(m: re.Match[str]) -> str:
        p = m.group(1)
        return focus + (p if right[p] else pairs[p])
    return re.sub(re.escape(focus) + r"(은|는|이|가|을|를|과|와)(?=\s|[?.!]|$)", sub, text)


def join_item(before: str, item: str, after: str, lang: str) -> str:
    text = f"{before}{item}{after}"
    return _fix_particles(text, item) if lang != "en" else text


_KO_PRONOUN_ORDINAL = re.compile(r"^(?:그|이|저)\s|(?:것|거|꺼|항목)$")
_EN_PRONOUN_ORDINAL = re.compile(r"\b(?:one|item|thing)$", re.I)


def pronoun_ordinal(question: str, lang: str) -> str | None:
    """The ordinal that stands for an item of a list rather than qualifying a noun of the
    question: "그 두 번째 것", "마지막 거", "the second one" (not "YOLO의 두 번째 단계"); None else."""
    found = find_ordinal(question, lang)
    if found is None:
        return None
    a, b = found[1]
    phrase = question[a:b].strip()
    pattern = _EN_PRONOUN_ORDINAL if lang == "en" else _KO_PRONOUN_ORDINAL
    return phrase if pattern.search(phrase) or not has_own_subject(question, lang) else None


def anaphor_phrase(question: str, lang: str) -> str | None:
    """The first anaphor of the question with the noun it determines, as written ("그 모델",
    "그것", "it"); None when there is none. English pronouns count only in a question with no
    subject of its own ("How does it work?", not "What is BERT and how is it trained?")."""
    if lang == "en":
        if has_own_subject(question, lang):
            return None
        m = next((m for m in _EN_WORD.finditer(question) if m.group(0).lower() in EN_ANAPHORS), None)
        return m.group(0) if m else None
    toks = morphemes(question)
    for i, t in enumerate(toks):
        phrase = None
        if t.tag == "NP" and _DEMONSTRATIVE.match(t.form):
            phrase = (t.start, t.start + t.len)
        elif t.tag == "MM" and t.form in DETERMINERS:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            phrase = (t.start, nxt.start + nxt.len if nxt is not None and nxt.tag in NOMINAL_TAGS else t.start + t.len)
        if phrase is None:
            continue
        # a name of the question's own, or any noun before the anaphor, is what it points back to
        # ("Llama 2는 ..., 그 과정의 RLHF", "이 스터디에서 AI 모델을"): the question stands alone
        own = [p for p in noun_phrases(question) if not (phrase[0] <= p.start < phrase[1])]
        if any(p.named for p in own) or any(p.end <= phrase[0] for p in own):
            return None
        return question[phrase[0] : phrase[1]]
    return None


def dangling_reference(question: str, lang: str) -> str | None:
    """The words of a reference only a conversation could give a meaning to (an ordinal standing
    for a list item, an anaphor), for a question that has nothing to resolve them against."""
    return pronoun_ordinal(question, lang) or anaphor_phrase(question, lang)
