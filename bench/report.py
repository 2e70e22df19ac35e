"""SUMMARY.md from the result files: the issue's targets (met or missed), then one table per bench.

Numbers only describe; nothing here fails on time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import RESULTS, read_result

Row = tuple[str, str, bool | None]  # target, measured, met (None: not measured)


def _get(d: dict[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _largest(query: dict[str, Any] | None) -> str | None:
    sizes = [k for k in (_get(query, "sizes") or {}) if k.isdigit()]
    return max(sizes, key=int) if sizes else None


def targets(ingest: dict | None, query: dict | None, server: dict | None, peer: dict | None) -> list[Row]:
    rows: list[Row] = []

    def add(name: str, value: float | None, limit: float, fmt: str, higher: bool = False) -> None:
        if value is None:
            rows.append((name, "not measured", None))
        else:
            rows.append((name, fmt.format(value), value >= limit if higher else value <= limit))

    add("retrieval p50 on the notes (hybrid) <= 5 ms", _get(query, "sizes", "notes", "hybrid", "p50_ms", "median"), 5, "{:.2f} ms")
    big = _largest(query)
    if big:
        add(f"retrieval p50 at {int(big):,} chunks (hybrid) <= 30 ms"
            + ("" if big == "100000" else " (100k not run)"),
            _get(query, "sizes", big, "hybrid", "p50_ms", "median"), 30, "{:.2f} ms")
    add("latency grows no faster than linearly (log-log slope, two largest sizes) <= 1",
        _get(query, "growth_exponent_hybrid"), 1.0, "{:.2f}")
    c8 = _get(server, "workers", "2", "search", "8")
    add("/search at concurrency 8, 2 workers >= 300 req/s", _get(c8, "rps", "median"), 300, "{:.0f} req/s", higher=True)
    errors = _get(server, "errors")
    rows.append(("0 errors in every server run", "not measured" if errors is None else str(errors),
                 None if errors is None else errors == 0))
    add("no-change re-ingest <= 1 s", _ms_to_s(_get(ingest, "notes", "no_change", "median_ms")), 1, "{:.3f} s")
    add("one-file change re-ingest <= 3 s", _ms_to_s(_get(ingest, "notes", "one_file_changed", "median_ms")), 3, "{:.2f} s")
    b = _get(server, "big")
    rss = max(b.get("rss_idle_mb") or 0, b.get("rss_load_mb") or 0) / 1024 if b else None
    add(f"server RSS at {_get(b, 'chunks') or 100000:,} chunks (1 worker, offline) <= 1 GB", rss, 1.0, "{:.2f} GB")
    add("hit@5 ahead of the strongest peer by >= 0.08", _get(peer, "margin_vs_strongest", "hit@5"), 0.08, "{:+.3f}", higher=True)
    add("MRR@10 ahead of the strongest peer by >= 0.10", _get(peer, "margin_vs_strongest", "mrr@10"), 0.10, "{:+.3f}", higher=True)
    return rows


def _ms_to_s(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _s(sp: dict[str, Any] | None, digits: int = 2) -> str:
    """'median [min-max]' of a spread."""
    if not sp:
        return "-"
    return f"{sp['median']:.{digits}f} [{sp['min']:.{digits}f}-{sp['max']:.{digits}f}]"


def _ingest_tables(ingest: dict[str, Any]) -> list[str]:
    n = ingest["notes"]
    out = ["## Ingest", "", f"Notes: {n.get('chunks')} chunks, {n.get('mb')} MB; median [min-max] of "
           f"{n['full']['n']} runs after a warm-up.", "", "| Operation | median | min | max |", "|---|---|---|---|"]
    for key, label in (("full", "full build"), ("no_change", "no-change re-run"), ("one_file_changed", "one file changed")):
        r = n[key]
        out.append(f"| {label} | {r['median_ms'] / 1000:.3f} s | {r['min_ms'] / 1000:.3f} s | {r['max_ms'] / 1000:.3f} s |")
    out += ["", "Synthetic corpora (resampled note sentences; one build each, index reused by the query bench):", "",
            "| Chunks | MB | seconds | chunks/s | MB/s | stages (s) |", "|---|---|---|---|---|---|"]
    for size, r in ingest.get("synthetic", {}).items():
        stages = ", ".join(f"{k} {v}" for k, v in (r.get("stages_s") or {}).items())
        out.append(f"| {r['chunks']:,} | {r['mb']} | {r['seconds']} | {r['chunks_per_s']} | {r['mb_per_s']} | {stages} |")
    if ingest.get("lines"):
        out += ["", "One note of short lines (a word list; full ingest into a fresh index; linear growth shows as a "
                "steady time per 1,000 lines):", "",
                "| Lines | MB | ingest s | ms / 1k lines | load+split s | x vs previous |", "|---|---|---|---|---|---|"]
        for r in ingest["lines"]:
            out.append(f"| {r['lines']:,} | {r['mb']} | {r.get('ingest_s', '-')} | {r.get('ingest_ms_per_1k_lines', '-')} | "
                       f"{r['load_split_s']} | {r.get('growth_vs_previous', '-')} |")
    return out + [""]


def _query_table(query: dict[str, Any]) -> list[str]:
    out = ["## Query latency", "", "Per-pass p50/p95 over the questions, median [min-max] of "
           f"{query['runs']} passes after a warm-up (ms). `ask` is the whole extractive answer.", "",
           "| Corpus | chunks | questions | load s | dense p50 | bm25 p50 | hybrid p50 | hybrid p95 | ask p50 | ask p95 "
           "| FAISS alone, default / 1 thread |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in query["sizes"].items():
        f = r.get("faiss_search") or {}
        out.append(f"| {name} | {r['chunks']:,} | {r['hybrid']['questions']} | {r['snapshot_load_s']} | "
                   f"{_s(r['dense']['p50_ms'])} | {_s(r['bm25']['p50_ms'])} | {_s(r['hybrid']['p50_ms'])} | "
                   f"{_s(r['hybrid']['p95_ms'])} | {_s(r['ask']['p50_ms'])} | {_s(r['ask']['p95_ms'])} | "
                   f"{f.get('ms_default_threads')} / {f.get('ms_one_threads')} ms ({f.get('default_threads')} threads) |")
    out += ["", f"Growth exponent of hybrid p50 between the two largest corpora: {query.get('growth_exponent_hybrid')} "
            "(1 = linear).", "", f"![latency against corpus size]({Path(query['plot']).name})", ""]
    return out


def _server_table(server: dict[str, Any]) -> list[str]:
    out = ["## HTTP server", "", f"{server['runs']} runs per row after a warm-up; a run is "
           f"{server['requests_per_run']} requests or {server['time_limit_s']} s. Client and server share the cores.", "",
           "| Workers | route | concurrency | req/s median [min-max] | p50 ms | p95 ms | p99 ms | errors | RSS under load MB |",
           "|---|---|---|---|---|---|---|---|---|"]
    for w, wr in server["workers"].items():
        for route in ("search", "ask"):
            for c, r in wr[route].items():
                out.append(f"| {w} | /{route} | {c} | {_s(r['rps'], 0)} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
                           f"{r['errors']} | {r['rss_load_mb']} |")
    out += ["", "| Workers | startup s | RSS idle MB | RSS after load MB |", "|---|---|---|---|"]
    for w, wr in server["workers"].items():
        out.append(f"| {w} | {wr['startup_s']} | {wr['rss_idle_mb']} | {wr['rss_after_mb']} |")
    d = server.get("one_thread")
    if d:
        r = d["search_c8"]
        out += ["", f"Diagnostic, same server with one thread per native pool ({', '.join(f'{k}={v}' for k, v in d['env'].items())}): "
                f"/search c=8, 2 workers: {_s(r['rps'], 0)} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                f"errors {r['errors']}."]
    b = server.get("big")
    if b:
        s = b["search_c8"]
        out += ["", f"Server on {b['chunks']:,} synthetic chunks ({b['workers']} worker): startup {b['startup_s']} s, "
                f"RSS idle {b['rss_idle_mb']} MB, under /search load {b['rss_load_mb']} MB; /search c=8 "
                f"{s['rps']['median']:.0f} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, errors {s['errors']}."]
    return out + [""]


def _peer_table(peer: dict[str, Any]) -> list[str]:
    out = ["## Against a plain LangChain pipeline", "", f"{peer['items']} answerable items (unanswerable ones left out); "
           f"peer: {peer['peer_setup']}; {peer['peer_index']['chunks']} peer chunks. Latency: per-question median of "
           f"{peer['runs']} runs, then p50 over questions.", "",
           "| System | hit@5 | MRR@10 | p50 ms | hit@5 (en) | MRR@10 (en) | hit@5 (ko) | MRR@10 (ko) |",
           "|---|---|---|---|---|---|---|---|"]
    for name, r in peer["systems"].items():
        out.append(f"| {name} | {r['all']['hit@5']:.3f} | {r['all']['mrr@10']:.3f} | {r['all']['p50_ms']:.2f} | "
                   f"{r['en']['hit@5']:.3f} | {r['en']['mrr@10']:.3f} | {r['ko']['hit@5']:.3f} | {r['ko']['mrr@10']:.3f} |")
    out += ["", "Ratios ours / peer:", "", "| Peer | items | hit@5 | MRR@10 | p50 latency |", "|---|---|---|---|---|"]
    for name, by_lang in peer["ratios_ours_over"].items():
        for lang, r in by_lang.items():
            out.append(f"| {name} | {lang} | {r['hit@5']} | {r['mrr@10']} | {r['p50_ms']} |")
    m = peer["margin_vs_strongest"]
    out += ["", f"Strongest peer: {peer['strongest_peer']}; ours ahead by {m['hit@5']:+.3f} hit@5 and "
            f"{m['mrr@10']:+.3f} MRR@10.", ""]
    for name, r in peer["systems"].items():
        if "missed_at_5" in r:
            out.append(f"- {name} misses at 5: {', '.join(r['missed_at_5']) or 'none'}")
    out.append("")
    return out


def _profiles() -> list[str]:
    out: list[str] = []
    for path in sorted(RESULTS.glob("profile_*.json")):
        data = read_result(path.stem) or {}
        cols = data.get("columns", ["self s", "total s", "function"])
        out += [f"### {data.get('title', path.stem)}", "", data.get("note", ""), "",
                "| " + " | ".join(cols) + " |", "|---|---|---|"]
        fmt = "{:.1%}" if "share" in cols[0] else "{:.1f}" if "MB" in cols[0] else "{:.3f}"
        for e in data.get("top", [])[:10]:
            out.append(f"| {fmt.format(e['self_s'])} | {fmt.format(e['total_s'])} | `{e['function']}` |")
        if path.with_suffix(".txt").is_file():
            out += ["", f"Full tree: `{path.with_suffix('.txt').name}`."]
        out.append("")
    return (["## Profiles of missed targets", ""] + out) if out else []


def write_summary(meta: dict[str, Any]) -> Path:
    ingest, query, server, peer = (read_result(n) for n in ("ingest", "query", "server", "peer"))
    rows = targets(ingest, query, server, peer)
    lines = ["# Benchmark summary", "", " · ".join(f"{k}: {v}" for k, v in meta.items()), "",
             "## Targets", "", "| Target | measured | met |", "|---|---|---|"]
    for name, value, met in rows:
        lines.append(f"| {name} | {value} | {'yes' if met else 'no' if met is not None else '-'} |")
    lines.append("")
    for data, fn in ((ingest, _ingest_tables), (query, _query_table), (server, _server_table), (peer, _peer_table)):
        if data:
            lines += fn(data)
    lines += _profiles()
    path = RESULTS / "SUMMARY.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def missed(meta_rows: list[Row] | None = None) -> list[str]:
    rows = meta_rows or targets(*(read_result(n) for n in ("ingest", "query", "server", "peer")))
    return [name for name, _, met in rows if met is False]
