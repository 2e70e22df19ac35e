"""The packaged LLM (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, built by `rag models build llm`) answering
over the real notes through the whole pipeline, streamed as `/ask/stream` serves it.

Per answer it prints: the quick (extractive) answer's time, time to first model token, total;
prompt tokens in the chat (and how many llama.cpp actually evaluated: the fixed prefix of rules
and worked example is reused from the previous prompt / the state cache), prompt tokens/s and
generation tokens/s from llama.cpp's own counters (llama_perf_context), and whether the model's
answer was served (its citations verified) or the quick answer stood in. The questions run
twice in order Korean, English, Korean...: the first question pays for the fixed prefix, later
ones show the reuse.

Prints numbers and writes bench/results/llm.json; passes or fails on nothing.
Run: HF_HUB_OFFLINE=1 nice .venv/bin/python -m bench.llm_bench [--threads 2] [--max-tokens 160] [--embedder e5]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Any

from bench.common import NOTES, log, work_dir, write_result

QUESTIONS = [
    "GAN은 어떤 두 네트워크로 구성되고 각각 무슨 일을 해?",
    "In a GAN, what do the generator and the discriminator each do?",
    "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?",
    "What is BERT?",
]


def pipeline_for(embedder: str, threads: int, max_tokens: int):  # noqa: ANN201 - (AnswerPipeline, LlamaCppGenerator)
    from ingest.pipeline import Ingestor
    from rag.generators.llamacpp import LlamaCppGenerator
    from rag.generators.packaged_llm import ensure_built
    from rag.live import LiveSnapshot
    from rag.pipeline import AnswerPipeline
    from rag.search import Searcher
    from rag.settings import Settings

    index = work_dir() / f"index-llm-{embedder}"
    settings = Settings(notes_dir=NOTES, index_dir=index, embedder=embedder, generator="llamacpp",  # type: ignore[call-arg]
                        llm_threads=threads, llm_max_tokens=max_tokens, llm_ctx=2048, _env_file=None)
    built = ensure_built(settings.model_cache_dir)
    log(f"model: {built.path} ({'assembled in %.0f s' % built.seconds if built.built_now else 'already built'})")
    if not (index / "CURRENT").is_file():
        Ingestor(settings, progress=False).sync()
    t = time.perf_counter()
    generator = LlamaCppGenerator(settings)
    load_s = time.perf_counter() - t
    live = LiveSnapshot.from_settings(settings)
    return AnswerPipeline(settings, Searcher(settings, live.get), generator), generator, load_s


def one(pipeline, question: str) -> dict[str, Any]:  # noqa: ANN001
    t0 = time.perf_counter()
    quick_ms = first_ms = None
    answer = None
    for event in pipeline.stream(question, quick=True):
        now = (time.perf_counter() - t0) * 1000
        if event.kind == "quick_answer" and quick_ms is None:
            quick_ms = now
        elif event.kind == "token" and first_ms is None:
            first_ms = now
        elif event.kind == "answer":
            answer = event.data
    total_ms = (time.perf_counter() - t0) * 1000
    d = answer.debug
    perf = d.get("llama_perf", {})
    row = {"question": question, "lang": answer.lang, "quick_answer_ms": round(quick_ms or 0, 1),
           "first_token_ms": round(first_ms or 0, 1), "total_ms": round(total_ms, 1),
           "prompt_tokens": d.get("prompt_tokens_used"), "prompt_tokens_evaluated": perf.get("prompt_tokens"),
           "prompt_tokens_per_s": perf.get("prompt_tokens_per_s"), "generated_tokens": perf.get("generated_tokens"),
           "generation_tokens_per_s": perf.get("generation_tokens_per_s"), "refused": answer.refused,
           "served": "model" if "fallback" not in d and not answer.refused else ("refusal" if answer.refused else "quick answer"),
           "answer": answer.answer}
    log(f"{row['served']:>12}  quick {row['quick_answer_ms']:>6.0f} ms  first token {row['first_token_ms'] / 1000:>6.1f} s  "
        f"total {row['total_ms'] / 1000:>6.1f} s  prompt {row['prompt_tokens']} tok ({row['prompt_tokens_evaluated']} "
        f"evaluated, {row['prompt_tokens_per_s']} tok/s)  generated {row['generated_tokens']} tok "
        f"({row['generation_tokens_per_s']} tok/s)  | {question}\n    {answer.answer[:300]}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--embedder", default="offline", choices=["offline", "e5"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    pipeline, generator, load_s = pipeline_for(args.embedder, args.threads, args.max_tokens)
    log(f"model loaded in {load_s:.1f} s; {args.threads} threads; {args.rounds} rounds of {len(QUESTIONS)} questions")
    rows = [one(pipeline, q) | {"round": r} for r in range(args.rounds) for q in QUESTIONS]

    def med(key: str, subset: list[dict[str, Any]]) -> float | None:
        values = [r[key] for r in subset if isinstance(r.get(key), (int, float))]
        return round(statistics.median(values), 1) if values else None

    later = [r for r in rows if r is not rows[0]]
    summary = {key: med(key, later) for key in ("quick_answer_ms", "first_token_ms", "total_ms", "prompt_tokens",
                                                "prompt_tokens_evaluated", "prompt_tokens_per_s",
                                                "generation_tokens_per_s", "generated_tokens")}
    summary["first_answer_total_ms"] = rows[0]["total_ms"]
    summary["served_by_model"] = sum(r["served"] == "model" for r in rows)
    summary["answers"] = len(rows)
    log("medians over all answers but the first: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    write_result("llm", {"model": str(generator.path.name), "threads": args.threads, "max_tokens": args.max_tokens,
                         "embedder": args.embedder, "load_s": round(load_s, 2), "machine": platform.machine(),
                         "summary": summary, "answers": rows})


if __name__ == "__main__":
    main()
