"""Issue 12, case 8: the access log of a real server (uvicorn at --log-level info) names paths
only: no question from ``/search?q=`` and no token pasted into a URL."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.server import build_index, run_server

QUESTION = "비밀질문-YOLO-7f3a 는 무엇인가"
TOKEN = "pasted-secret-token-91c2"


@pytest.mark.slow
def test_query_strings_are_not_logged(tmp_path: Path) -> None:
    with run_server(build_index(tmp_path), log_level="info") as srv, srv.client() as c:
        assert c.get("/search", params={"q": QUESTION, "k": 3}).status_code == 200
        assert c.get("/search", params={"q": "YOLO", "token": TOKEN}).status_code == 200
        assert c.get(f"/health?access_token={TOKEN}").status_code == 200
        assert c.get("/nowhere", params={"q": QUESTION}).status_code == 404
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and srv.output().count('"GET /search HTTP/1.1" 200') < 2:
            time.sleep(0.1)
        log = srv.output()
    assert log.count('"GET /search HTTP/1.1" 200') == 2, log[-3000:]  # the access log is on, paths only
    assert '"GET /health HTTP/1.1" 200' in log and '"GET /nowhere HTTP/1.1" 404' in log
    for secret in (QUESTION, TOKEN, "%EB%B9%84%EB%B0%80", "7f3a", "?q=", "k=3"):
        assert secret not in log, secret
