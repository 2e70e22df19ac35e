"""Publishing one large Word document: load (python-docx) and the whole ingest (split, analyse,
embed, write, publish) of a .docx of N paragraphs of resampled note sentences, a heading every
20 paragraphs (issue 29: 20,000 paragraphs took about 18 minutes). ``ingest_cpu_s``: the
process's CPU time (all its threads) over the ingest, steadier than the wall time on a shared machine.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 nice -n 10 python -m bench.docx_publish_bench --paragraphs 5000 [--profile out.prof]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import random
import tempfile
import time
from pathlib import Path

from bench.common import note_sentences, settings_for


def docx_of(paragraphs: int, seed: int = 0) -> bytes:
    import docx

    rng = random.Random(seed)
    sentences = note_sentences()
    document = docx.Document()
    for i in range(paragraphs):
        if i % 20 == 0:
            document.add_heading(f"{i // 20 + 1}절 {rng.choice(sentences)[:20]}", level=2)
        document.add_paragraph(" ".join(rng.choice(sentences) for _ in range(2)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the ingest here")
    args = parser.parse_args()
    from ingest.loaders import load_bytes
    from ingest.pipeline import Ingestor

    data = docx_of(args.paragraphs)
    t = time.perf_counter()
    doc = load_bytes("large.docx", data, "docx")
    load_s = time.perf_counter() - t
    root = Path(tempfile.mkdtemp(prefix="docx-bench-"))
    (root / "notes").mkdir()
    (root / "notes" / "large.docx").write_bytes(data)
    settings = settings_for(root / "notes", root / "index")
    profiler = cProfile.Profile() if args.profile else None
    t, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    summary = Ingestor(settings, progress=False).sync()
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    ingest_s, ingest_cpu_s = time.perf_counter() - t, time.process_time() - cpu
    print(json.dumps({"paragraphs": args.paragraphs, "mb": round(len(data) / 1e6, 2), "chars": len(doc.text),
                      "load_s": round(load_s, 2), "ingest_s": round(ingest_s, 2),
                      "ingest_cpu_s": round(ingest_cpu_s, 2), "chunks": summary.chunks,
                      "published": summary.published}))


if __name__ == "__main__":
    main()
