"""Issue 12, cases 2, 3 and 10: `rag ingest` as maintainers run it (real processes, real files).

2. `rag ingest FILE` replaced the whole index with that one file ("4 removed ... published", exit 0).
3. A missing directory reported "5 removed"; an empty one exited 0 after removing every document.
10. No progress bar for most of a build in a terminal; `--json` did not turn the embed bar off.
"""
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from rag.snapshots.format import CHUNKS_DB, read_current, snapshots_dir
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
NEW_NOTE = "# 쿼카 노트\n\n쿼카는 호주 로트네스트 섬에 사는 작은 유대류이다. 주로 밤에 풀을 먹는다.\n"


def _env(index: Path, notes: Path) -> dict[str, str]:
    return {**os.environ, "RAG_INDEX_DIR": str(index), "RAG_NOTES_DIR": str(notes), "RAG_EMBEDDER": "offline",
            "HF_HUB_OFFLINE": "1"}


def rag(*args: str, index: Path, notes: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=_env(index, notes),
                          capture_output=True, text=True, timeout=300)


def rag_in_pty(*args: str, index: Path, notes: Path, columns: int = 100, timeout: float = 300) -> tuple[int, str]:
    """Run `rag` with stdout and stderr on a real pseudo-terminal of ``columns`` (0: a terminal
    that reports no size); (exit status, everything drawn)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=_env(index, notes),
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(timeout=30), out.decode("utf-8", errors="replace")


def _live_docs(index: Path) -> dict[str, tuple]:
    con = sqlite3.connect(snapshots_dir(index) / str(read_current(index)) / CHUNKS_DB)
    try:
        chunks = con.execute('SELECT doc, start, "end", text FROM chunks ORDER BY id').fetchall()
    finally:
        con.close()
    out: dict[str, list] = {}
    for doc, *rest in chunks:
        out.setdefault(doc, []).append(tuple(rest))
    return {doc: tuple(v) for doc, v in out.items()}


@pytest.fixture
def indexed(tmp_path: Path, notes_copy: Path) -> tuple[Path, Path]:
    index = tmp_path / "index"
    first = rag("ingest", "--json", index=index, notes=notes_copy)
    assert first.returncode == 0, first.stderr
    return index, notes_copy


def test_a_file_path_is_refused_and_add_adds_only_that_file(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    index, notes = indexed
    live, before = read_current(index), _live_docs(index)
    note = tmp_path / "quokka.md"
    note.write_text(NEW_NOTE, encoding="utf-8")
    for path in (note, notes / "001_ad38356643d53f32.txt"):  # outside the notes dir, and inside it
        refused = rag("ingest", str(path), index=index, notes=notes)
        assert refused.returncode == 2 and "--add" in refused.stderr and "directory" in refused.stderr
        assert read_current(index) == live and _live_docs(index) == before

    added = rag("ingest", "--add", str(note), "--json", index=index, notes=notes)
    assert added.returncode == 0, added.stderr
    summary = json.loads(added.stdout)
    assert (summary["added"], summary["removed"], summary["unchanged"], summary["published"]) == (1, 0, 5, True)
    after = _live_docs(index)
    assert {d: after[d] for d in before} == before and after["quokka.md"]  # the rest untouched
    assert (notes / "quokka.md").read_text(encoding="utf-8") == NEW_NOTE
    again = json.loads(rag("ingest", "--json", index=index, notes=notes).stdout)
    assert again["unchanged"] == 6 and not again["published"]  # a later sync agrees with the add

    twice = rag("ingest", "--add", str(note), index=index, notes=notes)
    assert twice.returncode == 1 and "already exists" in twice.stderr
    copy = tmp_path / "copy.txt"
    copy.write_bytes((notes / "002_94189a8f86b677c1.txt").read_bytes())
    dup = rag("ingest", "--add", str(copy), index=index, notes=notes)
    assert dup.returncode == 1 and "002_94189a8f86b677c1.txt" in dup.stderr and not (notes / "copy.txt").exists()
    assert set(_live_docs(index)) == set(before) | {"quokka.md"}


def test_duplicates_in_the_directory_are_listed_not_indexed(indexed: tuple[Path, Path]) -> None:
    index, notes = indexed
    (notes / "aaa_copy.txt").write_bytes((notes / "003_47161544f8428e78.txt").read_bytes().replace(b"\n", b"\r\n"))
    out = rag("ingest", "--json", index=index, notes=notes)
    summary = json.loads(out.stdout)
    assert summary["duplicates"] == [{"path": "aaa_copy.txt", "duplicate_of": "003_47161544f8428e78.txt"}]
    assert "aaa_copy.txt" in out.stderr and "aaa_copy.txt" not in _live_docs(index)


@pytest.mark.parametrize("case", ["missing", "empty", "all-bad"])
def test_a_run_that_would_remove_everything_publishes_nothing(indexed: tuple[Path, Path], tmp_path: Path,
                                                               case: str) -> None:
    index, notes = indexed
    live, before = read_current(index), _live_docs(index)
    directory = tmp_path / case
    if case != "missing":
        directory.mkdir()
    if case == "all-bad":
        (directory / "broken.pdf").write_bytes(b"%PDF-1.4 nope")
    out = rag("ingest", str(directory), "--json", index=index, notes=notes)
    assert out.returncode == 1, out.stderr
    summary = json.loads(out.stdout)
    assert not summary["published"] and summary["removed"] == 0 and summary["aborted"]
    assert summary["would_have"]["removed"] == 5
    assert read_current(index) == live and _live_docs(index) == before
    text = rag("ingest", str(directory), index=index, notes=notes)
    assert text.returncode == 1 and "nothing published" in text.stdout and "5 removed" in text.stdout
    if case == "missing":
        assert "does not exist" in text.stderr


def test_progress_bars_on_a_terminal_only(tmp_path: Path, notes_copy: Path) -> None:
    index = tmp_path / "index"
    code, drawn = rag_in_pty("ingest", index=index, notes=notes_copy)
    assert code == 0, drawn
    for stage in ("loading", "splitting", "analysing", "embedding", "writing"):
        assert f"{stage}: 100%" in drawn, (stage, drawn[-2000:])
    # a later write with every chunk cached still shows its stages
    (notes_copy / "extra.md").write_text(NEW_NOTE, encoding="utf-8")
    code, drawn = rag_in_pty("ingest", index=index, notes=notes_copy, columns=0)
    assert code == 0 and "splitting: 100%" in drawn and "embedding: 100%" in drawn, drawn[-2000:]

    (notes_copy / "extra2.md").write_text(NEW_NOTE.replace("쿼카", "웜뱃"), encoding="utf-8")
    code, drawn = rag_in_pty("ingest", "--json", index=index, notes=notes_copy)
    assert code == 0 and "%|" not in drawn and "\r" not in drawn.replace("\r\n", "\n")
    assert json.loads(next(line for line in drawn.splitlines() if line.startswith("{")))["added"] == 1

    (notes_copy / "extra3.md").write_text(NEW_NOTE.replace("쿼카", "코알라"), encoding="utf-8")
    piped = rag("ingest", index=index, notes=notes_copy)
    assert piped.returncode == 0 and "%|" not in piped.stderr and "\r" not in piped.stderr
    assert "1 added" in piped.stdout


def test_add_a_file_already_in_the_notes_dir(make_settings, notes_copy: Path) -> None:
    from ingest.pipeline import Ingestor
    from rag.snapshots.store import SnapshotStore

    settings = make_settings()
    Ingestor(settings, progress=False).sync()
    (notes_copy / "sub").mkdir()
    (notes_copy / "sub" / "quokka.md").write_text(NEW_NOTE, encoding="utf-8")
    (notes_copy / "001_ad38356643d53f32.txt").unlink()  # another pending change --add must not publish
    summary = Ingestor(settings, progress=False).add(notes_copy / "sub" / "quokka.md")
    assert (summary.added, summary.removed, summary.unchanged) == (1, 0, 5)
    docs = {d["doc"] for d in SnapshotStore(settings.index_dir).open_live().documents}
    assert "sub/quokka.md" in docs and "001_ad38356643d53f32.txt" in docs
