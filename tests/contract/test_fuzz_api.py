"""The HTTP API fuzzed from its own OpenAPI schema with schemathesis: every operation, admin
routes included (with a valid token), valid and invalid inputs. No 5xx, and every response
matches what the schema declares (status code, content type, body).

schemathesis' pytest plugin does not run on this pytest, so operations are driven directly:
one Hypothesis run per operation and generation mode, derandomized, against the real ASGI app
(lifespan included) over a private copy of the index. ``RAG_FUZZ_EXAMPLES`` scales the run."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.server import ADMIN_TOKEN, build_index

EXAMPLES = int(os.environ.get("RAG_FUZZ_EXAMPLES", "40"))
EXPECTED_OPERATIONS = 12


def fuzz(app: Any, examples: int) -> tuple[int, Counter, dict[str, list[str]]]:
    """(cases run, statuses per operation, failures per operation and mode)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance, response_schema_conformance, status_code_conformance,
    )

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    statuses: Counter = Counter()
    failures: dict[str, list[str]] = {}
    total = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            key = f"{operation.label} ({mode.value})"

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def run(case: Any) -> None:
                nonlocal total
                total += 1
                try:
                    response = case.call(headers=headers)
                    statuses[f"{operation.label} {mode.value[:3]} {response.status_code}"] += 1
                    case.validate_response(response, checks=checks, headers=headers)
                except (Exception, BaseExceptionGroup) as exc:  # collected, reported all at once
                    failures.setdefault(key, []).append(str(exc)[:1200])

            try:
                run()
            except Unsatisfiable:
                pass  # no invalid input exists (no parameters, no body)
    return total, statuses, failures


@pytest.mark.slow
def test_the_api_matches_its_schema_under_fuzzing(tmp_path: Path) -> None:
    from api.app import create_app

    settings = build_index(tmp_path).model_copy(update={"admin_token": ADMIN_TOKEN, "max_upload_mb": 1.0})
    notes_before = {p.name for p in settings.notes_dir.iterdir()}
    total, statuses, failures = fuzz(create_app(settings), EXAMPLES)
    operations = {key.rsplit(" ", 2)[0] for key in statuses}
    print(f"\nfuzz: {total} cases over {len(operations)} operations; statuses: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(f"== {k} ({len(v)} failing cases)\n{v[0]}" for k, v in failures.items())
    assert len(operations) >= EXPECTED_OPERATIONS and total >= EXPECTED_OPERATIONS * EXAMPLES
    assert statuses["POST /ask pos 200"] > 0 and statuses["POST /reindex pos 200"] > 0  # real answers and writes
    assert not [k for k in statuses if k.endswith("pos 401")]  # the valid token was sent; negative cases drop it
    assert notes_before <= {p.name for p in settings.notes_dir.iterdir()}  # the notes were never wiped
