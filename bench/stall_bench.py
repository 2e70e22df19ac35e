"""How long a normal question takes while hostile requests are in flight (issue 29).

A real uvicorn server on 127.0.0.1 over a copy of the notes; ``--hostile N`` clients each send
the largest conversation a request body may carry (a history turn of 20,000 characters, and the
same on the OpenAI route as an earlier message) and give up after ``--give-up`` seconds, over and
over; meanwhile a normal question is asked ``--rounds`` times and its latency printed.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 nice -n 10 python -m bench.stall_bench --hostile 8
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.server import build_index, run_server

NORMAL = "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"


def hostile_bodies(chars: int) -> list[tuple[str, dict]]:
    """A follow-up whose history turn is ``chars`` characters of Korean text (Kiwi's worst case:
    many words, one long noun phrase), on /ask and as an earlier OpenAI message."""
    long_turn = ("합성곱 신경망 모델 " * (chars // 10 + 1))[:chars]
    return [
        ("/ask", {"question": "그 두 번째 것은 무슨 일을 해?",
                  "history": [{"question": long_turn, "answer": "A와 B [1]"}]}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": long_turn},
                                               {"role": "assistant", "content": "A와 B"},
                                               {"role": "user", "content": "그건 뭐야?"}]}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hostile", type=int, default=8)
    parser.add_argument("--chars", type=int, default=20000)
    parser.add_argument("--give-up", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=float, default=120.0, help="timeout of one normal question, s")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="stall-bench-"))
    settings = build_index(root)
    with run_server(settings) as server:
        stop = threading.Event()
        statuses: list[object] = []
        bodies = hostile_bodies(args.chars)

        def attacker(i: int) -> None:
            path, body = bodies[i % len(bodies)]
            while not stop.is_set():
                try:
                    statuses.append(httpx.post(server.url + path, json=body, timeout=args.give_up).status_code)
                except httpx.HTTPError:
                    statuses.append("gave up")

        with httpx.Client(base_url=server.url, timeout=args.limit) as client:
            t = time.perf_counter()
            client.post("/ask", json={"question": NORMAL}).raise_for_status()
            alone = time.perf_counter() - t
            threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(args.hostile)]
            for th in threads:
                th.start()
            time.sleep(args.give_up)  # every attacker has a request in flight
            times: list[float] = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                try:
                    r = client.post("/ask", json={"question": NORMAL})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                times.append(time.perf_counter() - t if ok else float("inf"))
            stop.set()
            for th in threads:
                th.join(args.give_up + 1)
        counts: dict[str, int] = {}
        for s in statuses:
            counts[str(s)] = counts.get(str(s), 0) + 1
        print(json.dumps({"alone_s": round(alone, 2), "hostile": args.hostile, "chars": args.chars,
                          "with_hostile_s": [round(x, 2) if x != float("inf") else "timeout" for x in times],
                          "median_s": round(statistics.median(times), 2) if all(x != float("inf") for x in times)
                          else "timeout", "hostile_statuses": counts}))


if __name__ == "__main__":
    main()
