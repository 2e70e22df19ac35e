"""Loading time per format: a generated Word file, PowerPoint deck and Hangul file of growing size
(plus the same text as Markdown for comparison), each loaded ``--runs`` times in one process.

    python -m bench.loader_bench [--sizes 200,2000] [--runs 3]

``size`` is paragraphs (a heading every 20) for .docx/.hwpx/.md and slides (title, two lines,
speaker notes) for .pptx. Prints the median milliseconds and characters per second of each; a
time that grows faster than the size says a loader went quadratic. Writes
bench/results/loaders.json.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

from bench.common import log, write_result
from ingest.loaders import load_bytes
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes

SENTENCE = "역전파는 연쇄 법칙으로 기울기를 층마다 거꾸로 계산하는 방법이다."


def samples(size: int) -> dict[str, Callable[[], bytes]]:
    blocks = [("h2" if i % 20 == 0 else "p", f"{i}번 {SENTENCE}") for i in range(size)]
    return {
        "md": lambda: "\n\n".join(("## " if k == "h2" else "") + t for k, t in blocks).encode(),
        "docx": lambda: docx_bytes(blocks),
        "pptx": lambda: pptx_bytes([{"title": f"{i}번 슬라이드", "body": [SENTENCE, SENTENCE], "notes": SENTENCE}
                                    for i in range(size // 10)]),
        "hwpx": lambda: hwpx_bytes([[("h" if k == "h2" else "p", t) for k, t in blocks]]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_bytes("warm.md", b"# warm\n\nwarm up the normaliser and the imports.\n", "md")
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        for kind, make in samples(size).items():
            data = make()
            load_bytes(f"x.{kind}", data, kind)  # the library's first import is not the loader's time
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                doc = load_bytes(f"x.{kind}", data, kind)
                times.append(time.perf_counter() - started)
            ms = statistics.median(times) * 1000
            rows.append({"type": kind, "size": size if kind != "pptx" else size // 10, "bytes": len(data),
                         "chars": len(doc.text), "pages": len(doc.pages), "median_ms": round(ms, 1),
                         "chars_per_s": round(len(doc.text) / (ms / 1000))})
            log(f"{kind} size {rows[-1]['size']}: {ms:.0f} ms, {rows[-1]['chars_per_s']:,} chars/s")
    write_result("loaders", {"runs": args.runs, "rows": rows})


if __name__ == "__main__":
    main()
