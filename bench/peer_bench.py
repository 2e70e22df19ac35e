"""Side by side with a plain LangChain pipeline, on the same QA test set, machine and run.

The peer is what a LangChain user builds offline: each note loaded as UTF-8 with
``TextLoader``, ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
add_start_index=True)``, and langchain-community's ``BM25Retriever.from_documents`` with default
settings; its default ``k`` is 4, so ``retriever.k = 10`` is set for hit@5 and MRR@10. A
second peer is the same with Kiwi morphemes (``preprocess_func=`` the forms of
``Kiwi().tokenize``). Ours is ``rag.search.Searcher`` (hybrid, k=10) on an index of the notes
with the offline defaults.

Relevance is exactly `rag eval`'s (``rag.evaluation.metrics``): a passage is relevant when it
overlaps an occurrence of the item's evidence in the note's text (either evidence for
``multi``). Unanswerable items are left out of the retrieval metrics.

    python -m bench.peer_bench [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import log, notes_index, pct, questions, settings_for, work_dir, write_result
from rag.evaluation import metrics as m

Retrieved = list[tuple[str, int, int]]  # (doc, start, end) best first


def peer_retrievers(notes: Path) -> tuple[dict[str, Callable[[str], Retrieved]], dict[str, Any]]:
    from kiwipiepy import Kiwi
    from langchain_community.document_loaders import TextLoader
    from langchain_community.retrievers import BM25Retriever
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    t = time.perf_counter()
    docs = []
    for path in sorted(notes.iterdir()):
        for d in TextLoader(str(path), encoding="utf-8").load():
            d.metadata["doc"] = path.name
            docs.append(d)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    chunks = splitter.split_documents(docs)
    kiwi = Kiwi()

    def kiwi_forms(text: str) -> list[str]:
        return [tok.form for tok in kiwi.tokenize(text)]

    retrievers = {"langchain-bm25": BM25Retriever.from_documents(chunks),
                  "langchain-bm25-kiwi": BM25Retriever.from_documents(chunks, preprocess_func=kiwi_forms)}
    for r in retrievers.values():
        r.k = 10  # default 4; ten results are needed for MRR@10
    info = {"chunks": len(chunks), "build_s": round(time.perf_counter() - t, 2),
            "texts": {d.metadata["doc"]: d.page_content for d in docs}}

    def run(r: Any) -> Callable[[str], Retrieved]:
        return lambda q: [(d.metadata["doc"], d.metadata["start_index"], d.metadata["start_index"] + len(d.page_content))
                          for d in r.invoke(q)]

    return {name: run(r) for name, r in retrievers.items()}, info


def our_retriever(work: Path) -> tuple[Callable[[str], Retrieved], Any, Any]:
    from rag.evaluation.runner import EvidenceLocator
    from rag.live import LiveSnapshot
    from rag.search import Searcher

    notes, index = notes_index(work)
    settings = settings_for(notes, index)
    snap = LiveSnapshot.from_settings(settings).get()
    searcher = Searcher(settings, lambda: snap)

    def run(q: str) -> Retrieved:
        res = searcher.run(q, k=10, retriever="hybrid", snapshot=snap)
        return [(p.chunk.doc, p.chunk.start, p.chunk.end) for p in res.passages]

    return run, EvidenceLocator(notes, snap), snap


def spans_of(item: dict[str, Any], text_of: Callable[[str], str | None]) -> list[m.Span] | None:
    """Evidence spans of an answerable item in one system's view of the notes; None if unplaceable."""
    spans: list[m.Span] = []
    for src, ev in ((item.get("source"), item.get("evidence")), (item.get("source2"), item.get("evidence2"))):
        if src and ev:
            text = text_of(src)
            found = m.find_spans(text, ev, src) if text is not None else []
            if not found:
                return None
            spans += found
    return spans


def score(system: Callable[[str], Retrieved], items: list[dict[str, Any]], spans: dict[str, list[m.Span]],
          runs: int) -> dict[str, Any]:
    """hit@5, MRR@10 (all and by language) and per-question latency (median of ``runs``)."""
    from rag.language import korean

    per_q: dict[str, list[float]] = {i["id"]: [] for i in items}
    ranked: dict[str, Retrieved] = {}
    for r in range(runs + 1):
        getattr(korean, "tagged_content_tokens").cache_clear()  # every question new, as in query_bench
        for item in items:
            t = time.perf_counter()
            ranked[item["id"]] = system(item["question"])
            if r:
                per_q[item["id"]].append((time.perf_counter() - t) * 1000)
    out: dict[str, Any] = {}
    for lang in ("all", "ko", "en"):
        group = [i for i in items if lang in ("all", i["lang"])]
        rel = [[m.is_relevant(d, s, e, spans[i["id"]]) for d, s, e in ranked[i["id"]]] for i in group]
        lat = [statistics.median(per_q[i["id"]]) for i in group]
        out[lang] = {"items": len(group), "hit@5": round(statistics.fmean(m.hit_at_k(r, 5) for r in rel), 4),
                     "mrr@10": round(statistics.fmean(m.mrr_at_k(r, 10) for r in rel), 4),
                     "p50_ms": round(pct(lat, 50), 3), "p95_ms": round(pct(lat, 95), 3)}
    out["missed_at_5"] = [i["id"] for i in items
                          if not m.hit_at_k([m.is_relevant(d, s, e, spans[i["id"]]) for d, s, e in ranked[i["id"]]], 5)]
    return out


def ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    def div(a: float, b: float) -> float | None:
        return round(a / b, 3) if b else None

    return {lang: {key: div(ours[lang][key], peer[lang][key]) for key in ("hit@5", "mrr@10", "p50_ms")}
            for lang in ("all", "ko", "en")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    work = work_dir()
    ours, locator, _snap = our_retriever(work)
    peers, info = peer_retrievers(work / "notes")
    texts: dict[str, str] = info.pop("texts")
    items, our_spans, peer_spans, skipped = [], {}, {}, []
    for item in questions(answerable_only=True):
        a, b = spans_of(item, locator.text), spans_of(item, texts.get)
        if a is None or b is None:
            skipped.append(item["id"])
            continue
        items.append(item)
        our_spans[item["id"]], peer_spans[item["id"]] = a, b
    systems = {"ours-hybrid": score(ours, items, our_spans, args.runs)}
    log(f"peer: ours {systems['ours-hybrid']['all']}")
    for name, fn in peers.items():
        systems[name] = score(fn, items, peer_spans, args.runs)
        log(f"peer: {name} {systems[name]['all']}")
    peer_names = list(peers)
    strongest = max(peer_names, key=lambda n: (systems[n]["all"]["hit@5"], systems[n]["all"]["mrr@10"]))
    o, s = systems["ours-hybrid"]["all"], systems[strongest]["all"]
    result = {
        "runs": args.runs, "items": len(items), "skipped": skipped, "peer_index": info,
        "peer_setup": "TextLoader(utf-8) + RecursiveCharacterTextSplitter(1000, 200, add_start_index=True) + "
                      "BM25Retriever.from_documents (defaults; k set to 10 for MRR@10)",
        "systems": systems,
        "ratios_ours_over": {n: ratios(systems["ours-hybrid"], systems[n]) for n in peer_names},
        "strongest_peer": strongest,
        "margin_vs_strongest": {"hit@5": round(o["hit@5"] - s["hit@5"], 4), "mrr@10": round(o["mrr@10"] - s["mrr@10"], 4)},
    }
    write_result("peer", result)
    return result


if __name__ == "__main__":
    main()
