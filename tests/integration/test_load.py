"""A short version of the load bench (`python -m bench.load_test`, 2 minutes at concurrency 32):
/ask and /search mixed at concurrency 16 for 24 seconds on a real server, one re-index in the
middle (about 8 s under this load; on a slower machine the load goes on until it has published,
and 3 s more). No errors, both snapshots answered, p95 reported, memory stable after warm-up."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.load_test import run_load, summary
from tests.server import ADMIN_TOKEN, build_index, run_server


@pytest.mark.slow
def test_mixed_load_with_a_reindex_in_the_middle(tmp_path: Path) -> None:
    settings = build_index(tmp_path)
    with run_server(settings) as server:
        result = run_load(server.url, server.process.pid, server.notes_dir, ADMIN_TOKEN, seconds=24, concurrency=16,
                          warmup=5)
    print("\n" + summary(result))
    assert result.errors == 0, result.error_samples
    assert result.reindex["status"] == 200 and result.reindex["published"], result.reindex
    assert result.reindex["snapshot"] in result.snapshots and len(result.snapshots) == 2
    assert result.requests > 100 and result.latency_ms["all"]["p95"] > 0
    assert result.growth_pct <= 10, result.rss_mb
