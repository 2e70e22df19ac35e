"""Citations name the section of the quoted sentence, whatever the chunk: five notes of our own
(Markdown, text with a code block, HTML, PowerPoint with speaker notes, Word), ingested with the
real notes by the real ingest into a real snapshot (FAISS, SQLite), asked through the answer
pipeline; titles are the authors'; no quote carries a loader's label; an older snapshot format
is rebuilt, not misread."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.generators.extractive import ExtractiveGenerator
from rag.live import LiveSnapshot
from rag.pipeline import AnswerPipeline
from rag.search import Searcher
from rag.settings import Settings
from rag.snapshots.format import FORMAT_VERSION, META, read_current, snapshots_dir
from rag.snapshots.sections import PATH_SEPARATOR
from tests.corpus import NOTES
from tests.section_notes import EXPECTED, TITLES, files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("sections")
    notes = root / "notes"
    shutil.copytree(NOTES, notes)
    for name, data in files().items():
        (notes / name).write_bytes(data)
    s = Settings(notes_dir=notes, index_dir=root / "index", embedder="offline", _env_file=None)  # type: ignore[call-arg]
    summary = Ingestor(s, progress=False).sync()
    assert summary.published and not summary.failed, summary.failed
    return s


@pytest.fixture(scope="module")
def pipeline(settings: Settings) -> AnswerPipeline:
    live = LiveSnapshot.from_settings(settings)
    return AnswerPipeline(settings, Searcher(settings, live.get), ExtractiveGenerator(settings.answer_max_chars))


@pytest.mark.parametrize(("doc", "question", "phrase", "path"), EXPECTED, ids=[e[0] + ":" + e[2] for e in EXPECTED])
def test_each_answer_cites_the_section_holding_its_sentence(pipeline: AnswerPipeline, doc: str, question: str,
                                                           phrase: str, path: tuple[str, ...]) -> None:
    answer = pipeline.run(question)
    assert not answer.refused, answer.debug
    quoting = [s for s in answer.sentences if phrase in s.text]
    assert quoting, answer.answer
    cites = {c.n: c for c in answer.citations}
    cited = [cites[n] for s in quoting for n in s.citations]
    assert cited and all(c.doc == doc for c in cited), [(c.doc, c.section) for c in cited]
    c = cited[0]
    spans = [sp for sp in c.spans if phrase in c.quote[sp.start - c.start:sp.end - c.start]]
    assert spans and tuple(spans[0].section_path) == path
    label = PATH_SEPARATOR.join(path[1:] if path[0] == c.title and len(path) > 1 else path)
    assert label in (c.section or "").split("; "), c.section
    assert c.title == TITLES[doc] and c.where and label in c.where


def test_no_quote_carries_a_loader_label(pipeline: AnswerPipeline) -> None:
    for _, question, _, _ in EXPECTED:
        answer = pipeline.run(question)
        assert "Speaker notes" not in answer.answer and "notes:" not in answer.answer.lower()
        assert all("Speaker notes" not in c.quote for c in answer.citations)


def test_titles_are_the_authors(settings: Settings) -> None:
    live = LiveSnapshot.from_settings(settings).get()
    for doc, title in TITLES.items():
        assert live.title(doc) == title
    stems = {Path(d).stem for d in live.titles}
    assert not stems & set(live.titles.values()), live.titles  # no seed note is named by its file stem


def test_an_older_snapshot_format_is_rebuilt_not_misread(settings: Settings, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(settings.index_dir, index)
    old = read_current(index)
    meta_path = snapshots_dir(index) / str(old) / META
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["format"] = FORMAT_VERSION - 1
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    s = settings.model_copy(update={"index_dir": index})
    summary = Ingestor(s, progress=False).sync()
    assert summary.published and summary.snapshot != old
    snap = LiveSnapshot.from_settings(s).get()
    assert snap.meta["format"] == FORMAT_VERSION and snap.section_path("세포호흡.md", len("# 세포 호흡 정리\n\n## 해당"))
