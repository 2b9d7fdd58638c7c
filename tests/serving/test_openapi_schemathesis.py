"""Schemathesis over the API's own OpenAPI document, against a real ``journey serve``: whatever
it generates for each operation (valid and invalid queries and bodies, sent with a valid key),
the server answers without a 5xx and every answer conforms to the documented schema.

The operations come from the running server's ``/openapi.json``, so they are walked inside the
test (``as_strategy``) rather than collected by ``schemathesis.pytest``; a bounded number of
examples each keeps it to seconds."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.serving.conftest import API_KEY, Server

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 30  # per operation


def test_no_server_errors_and_answers_match_the_schema(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"GET /v1/decisions", "POST /v1/events"} <= {o.label for o in operations}
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=server.url,
                headers={"X-API-Key": API_KEY},
                checks=[not_a_server_error, response_schema_conformance],
                timeout=30,
            )

        try:
            check()
        except Exception as error:  # every operation reported, not only the first
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
