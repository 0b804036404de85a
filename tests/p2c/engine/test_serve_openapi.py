"""A fuzzer nobody here wrote (schemathesis) against ``p2c serve``'s OpenAPI document: no request it
makes gets a 500, and every answer matches the schema the document promises."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance
from serve_helpers import serve

EXAMPLES = 6  # per operation: bounded, so the whole document takes a minute or so


@pytest.mark.slow
def test_no_request_breaks_the_service_or_its_schema(provisioned_project: Any) -> None:
    world = provisioned_project
    with serve(world.path) as s:
        auth = {"Authorization": f"Bearer {s.token}"}
        assert httpx.get(f"{s.url}/api/v1/openapi.json").status_code == 401  # the document too
        first_run = s.wait_run(s.post("/runs", expect=202, json={"tasks": ["Accounts"]})["run_id"])["id"]
        schema = schemathesis.openapi.from_url(f"{s.url}/api/v1/openapi.json", headers=auth)
        checked = 0
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(), real=st.booleans())
            def check(case: Any, real: bool) -> None:
                params = case.path_parameters or {}
                if real and "project" in params:  # half the cases name the real project (and run)
                    params["project"] = s.project
                    if "run_id" in params:
                        params["run_id"] = first_run
                case.call_and_validate(
                    base_url=s.url,
                    headers=auth,
                    checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
                )

            check()
            checked += 1
        assert checked >= 15  # every operation of the API was exercised
        # the fuzzer paused the project, dismissed and ran things: the service still answers
        assert s.client.get(f"/api/v1/projects/{s.project}").status_code == 200
    assert s.token not in s.output() and world.secret not in s.output()
