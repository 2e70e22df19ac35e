"""Security of the HTTP edge, on a server started the way users start it (`rag serve`, no
--host): loopback only, admin token never logged or echoed, request bodies bounded, CORS off,
and no request path reaching files outside the notes and index dirs."""
from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.server import NO_BUILT_LLM, ROOT, Server, _wait_ready, assert_error, build_index, free_port, stop_process

TOKEN = "sekret-Admin-Token-9f8e7d6c5b4a"
WRONG = ("sekret-Admin-Token-9f8e7d6c5b4b", "sekret-Admin-Token-9f8e7d6c5b4", TOKEN + "x", "Bearer-ish", "토큰")
SENTINEL = "sentinel: nothing may read or change this"


@contextmanager
def rag_serve(root: Path) -> Iterator[Server]:
    """`python -m api.cli serve --port P` with RAG_HOST unset, all output captured in one log."""
    settings = build_index(root)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_NOTES_DIR=str(settings.notes_dir), RAG_INDEX_DIR=str(settings.index_dir), RAG_EMBEDDER="offline",
               RAG_ADMIN_TOKEN=TOKEN, RAG_MAX_UPLOAD_MB="1", HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    log = Path(tempfile.mkstemp(prefix="rag-serve-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=root, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", Path(settings.notes_dir), Path(settings.index_dir), proc, log)
    try:
        _wait_ready(server, 90)
        yield server
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("security")
    (root / "outside.txt").write_text(SENTINEL, encoding="utf-8")
    with rag_serve(root) as srv:
        yield srv


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on ``port`` (IPv4 and IPv6), from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(addr)
    return found


@pytest.mark.slow
def test_rag_serve_binds_loopback_by_default(server: Server) -> None:
    from rag.settings import Settings

    assert Settings(_env_file=None).host == "127.0.0.1"  # type: ignore[call-arg]
    port = int(server.url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only, no 0.0.0.0 or ::
    try:
        others = {ip for ip in socket.gethostbyname_ex(socket.gethostname())[2] if not ip.startswith("127.")}
    except OSError:  # no resolvable host name here: the /proc check above is the proof
        others = set()
    for ip in others:  # another interface of this machine cannot reach it
        with pytest.raises(OSError):
            socket.create_connection((ip, port), timeout=2).close()


@pytest.mark.slow
def test_admin_token_is_compared_in_constant_time_and_never_logged_or_echoed(server: Server) -> None:
    from api.auth import denial  # the one check, used by the dependency and before the body is read

    assert "hmac.compare_digest" in inspect.getsource(denial)
    bodies = []
    with server.client() as c:
        for wrong in WRONG:
            headers = {"Authorization": f"Bearer {wrong}".encode("utf-8")}
            for method, path in (("POST", "/reindex"), ("DELETE", "/documents/000_6894a9c6475e8976.txt")):
                r = c.request(method, path, headers=headers)  # type: ignore[arg-type]
                assert_error(r, 401, "unauthorized")
                bodies.append(r.text)
        r = c.post("/documents", headers={"Authorization": f"Basic {TOKEN}"}, files={"file": ("a.md", b"# a\n\nbody text")})
        assert_error(r, 401)
        bodies.append(r.text)
        admin = {"Authorization": f"Bearer {TOKEN}"}
        for method, path, files in (("POST", "/reindex", None), ("DELETE", "/documents/nope.md", None),
                                    ("PUT", "/documents/..%2Fx.md", {"file": ("x.md", b"# x\n\nbody")}),
                                    ("POST", "/documents", {"file": ("x.exe", b"MZ")})):
            r = c.request(method, path, headers=admin, files=files)
            assert r.status_code in (200, 404, 415, 422), r.text
            bodies.append(r.text)
    log = server.output()
    assert "POST /reindex" in log  # the access log is on, so the check below means something
    for secret in (TOKEN, *WRONG):
        assert secret not in log, f"{secret!r} appears in the server log"
        assert not any(secret in body for body in bodies), f"{secret!r} echoed in an error body"


@pytest.mark.slow
def test_json_bodies_are_bounded_with_or_without_a_length(server: Server) -> None:
    big = b'{"question": "' + b"a" * (2 * 2**20) + b'"}'

    def chunked() -> Iterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    with server.client() as c:
        for path in ("/ask", "/ask/stream", "/v1/chat/completions"):
            declared = c.post(path, content=big, headers={"content-type": "application/json"})
            assert_error(declared, 413, "too_large", mentions="1 MB")
            streamed = c.post(path, content=chunked(), headers={"content-type": "application/json"})
            assert_error(streamed, 413, "too_large")
        assert c.get("/health").json()["status"] == "ok"


@pytest.mark.slow
def test_cors_headers_are_absent_by_default(server: Server) -> None:
    origin = {"Origin": "https://evil.example"}
    with server.client() as c:
        responses = [c.get("/health", headers=origin), c.post("/ask", json={"question": "BERT?"}, headers=origin),
                     c.options("/ask", headers={**origin, "Access-Control-Request-Method": "POST"})]
    for r in responses:
        assert not [h for h in r.headers if h.lower().startswith("access-control-")], r.headers


TRAVERSALS = [
    "..%2Foutside.txt", "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%2e%2e%2foutside.txt",
    "..%252Foutside.txt", "....%2F%2Foutside.txt", "..%5Coutside.txt", "sub%2F..%2F..%2Foutside.txt",
    "..%2Findex%2FCURRENT", "%00..%2Foutside.txt", "outside.txt%00.md", "x" * 5000, "%C0%AE%C0%AE%2Foutside.txt",
    "link.txt",
]


def outside_state(server: Server) -> dict[str, tuple[int, int]]:
    root = server.notes_dir.parent
    files = [p for p in root.rglob("*") if p.is_file() and server.notes_dir not in p.parents]
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}


@pytest.mark.slow
def test_no_request_path_reaches_files_outside_the_notes_dir(server: Server) -> None:
    root = server.notes_dir.parent
    (server.notes_dir / "link.txt").symlink_to(root / "outside.txt")  # a link placed by hand, pointing out
    try:
        before = outside_state(server)
        seen: list[str] = []
        with server.client(headers=server.admin()) as c:
            for doc in TRAVERSALS:
                for r in (c.delete(f"/documents/{doc}"),
                          c.put(f"/documents/{doc}", files={"file": ("outside.txt", b"overwritten!")})):
                    assert 400 <= r.status_code < 500, (doc, r.status_code, r.text[:200])
                    seen.append(r.text)
            for path in ("/static/../../api/deps.py", "/static/%2e%2e/%2e%2e/rag/settings.py", "/static//etc/passwd",
                         "/static/..%2F..%2Fpyproject.toml", "/%2e%2e/%2e%2e/etc/passwd"):
                r = c.get(path)
                assert r.status_code == 404, (path, r.status_code)
                seen.append(r.text)
        assert outside_state(server) == before
        assert (root / "outside.txt").read_text(encoding="utf-8") == SENTINEL
        assert not any("root:x:0:0" in t or SENTINEL in t or "BaseSettings" in t for t in seen)
    finally:
        (server.notes_dir / "link.txt").unlink()
