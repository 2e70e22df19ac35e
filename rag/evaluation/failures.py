"""Failure classes of evaluated items: why an answer went wrong, one class per item.

An item is put in the first class of ``CLASSES`` whose condition holds, so the classes are
exclusive and a cause earlier in the flow (retrieval) hides the later ones (reading, citing).
The conditions read only fields of an eval row (see ``runner.Evaluator._item``):

1. ``retrieval_miss``: answerable, evidence placed in the index, and no evidence passage among
   the ``top_k`` passages the answerer was given (``first_relevant_rank`` missing or beyond).
2. ``wrong_passage``: answered, evidence retrieved at rank r <= top_k, but no citation overlaps
   the evidence (the answerer quoted another passage).
3. ``wrong_sentences``: answered, every evidence cited, a keyword still missing (the right
   passage, but the quoted sentences do not carry the answer).
4. ``partial_multi``: a ``multi`` item answered with only one of its two evidences cited and a
   keyword missing (one part of the question answered).
5. ``answerable_refused``: answerable and refused although the evidence was retrieved (or could
   not be placed, so retrieval cannot be blamed).
6. ``unanswerable_answered``: unanswerable and answered; the detail says whether the answer
   names the question's entity (a confident answer about the asked thing is worse than an
   answer about something else).
7. ``citation_imprecise``: otherwise right, but some citation points at a passage that does not
   overlap the evidence.

Items matching none are ``ok``. Answerable items whose evidence cannot be placed in the index
and that were answered are ``unscored``: their retrieval and citations cannot be judged.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

CLASSES: tuple[str, ...] = (
    "retrieval_miss", "wrong_passage", "wrong_sentences", "partial_multi",
    "answerable_refused", "unanswerable_answered", "citation_imprecise",
)
OK, UNSCORED = "ok", "unscored"
ALL_CLASSES: tuple[str, ...] = (*CLASSES, OK, UNSCORED)

LABELS: dict[str, str] = {
    "retrieval_miss": "retrieval miss",
    "wrong_passage": "wrong passage quoted",
    "wrong_sentences": "wrong sentences",
    "partial_multi": "partial multi",
    "answerable_refused": "answerable refused",
    "unanswerable_answered": "unanswerable answered",
    "citation_imprecise": "citation imprecise only",
    OK: "ok",
    UNSCORED: "not scored (evidence not in the index)",
}


def _covered_evidences(row: Mapping[str, Any]) -> int:
    """How many of the item's evidences at least one citation overlaps."""
    covered: set[int] = set()
    for c in row.get("citations") or []:
        covered.update(c.get("evidences") or [])
    return len(covered)


def classify(row: Mapping[str, Any], top_k: int) -> tuple[str, str]:
    """(class, detail) of one eval row; ``top_k`` is the number of passages the answerer saw.

    Needs the row keys ``type``, ``answerable``, ``scored``, ``refused``, ``citations`` (each
    with ``relevant`` and ``evidences``, the 0-based indices of the evidences it overlaps),
    ``keywords_ok``, ``first_relevant_rank``, ``n_evidences`` and, for unanswerable items,
    ``entity_named`` (the question's entity terms found in the answer, possibly empty).
    """
    if not row["answerable"]:
        if row["refused"]:
            return OK, ""
        named = row.get("entity_named") or []
        if named:
            return "unanswerable_answered", "names the question's entity: " + ", ".join(named)
        return "unanswerable_answered", "does not name the question's entity"
    if not row["scored"]:
        return ("answerable_refused", "evidence not in the index") if row["refused"] else (UNSCORED, "")
    rank = row.get("first_relevant_rank")
    if rank is None or rank > top_k:
        where = f"evidence first at rank {rank}" if rank is not None else "evidence not retrieved"
        return "retrieval_miss", f"{where} (answerer saw the top {top_k})"
    if row["refused"]:
        return "answerable_refused", f"evidence at rank {rank}"
    citations: Sequence[Mapping[str, Any]] = row.get("citations") or []
    covered = _covered_evidences(row)
    if covered == 0:
        return "wrong_passage", f"evidence at rank {rank}, cited {len(citations)} other passage(s)"
    n_evidences = row.get("n_evidences") or 1
    keywords_ok = row.get("keywords_ok", True)
    if not keywords_ok and covered >= n_evidences:
        return "wrong_sentences", "evidence cited, keywords missing"
    if not keywords_ok and row["type"] == "multi":
        return "partial_multi", f"{covered} of {n_evidences} evidences cited"
    wrong = sum(1 for c in citations if c.get("relevant") is False)
    if wrong:
        return "citation_imprecise", f"{wrong} of {len(citations)} citation(s) off the evidence"
    return OK, ""


def count_classes(rows: Sequence[Mapping[str, Any]], with_ids: bool = True) -> dict[str, dict[str, Any]]:
    """{class: {"n", "share", "ids"?}} for every class in ``ALL_CLASSES`` order (zeros kept, so
    two reports always have the same keys); ``ids`` left out when ``with_ids`` is false."""
    total = len(rows)
    out: dict[str, dict[str, Any]] = {}
    for name in ALL_CLASSES:
        ids = [r["id"] for r in rows if (r.get("failure") or {}).get("class") == name]
        entry: dict[str, Any] = {"n": len(ids), "share": round(len(ids) / total, 4) if total else None}
        if with_ids:
            entry["ids"] = ids
        out[name] = entry
    return out
