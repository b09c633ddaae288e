"""Property (schemathesis, from /v1/openapi.json): whatever is sent, valid or not, the API
never answers 5xx, and a refused request writes nothing.

"Nothing" means no row in any table; a refusal the endpoint itself decides (404, 409) under
an Idempotency-Key leaves only the stored answer to replay (idempotency_keys), by design.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.integration import api_world
from tests.integration.api_world import AUTH, ApiWorld

api = api_world.api

#: Kept small: the whole run stays well under a minute on both databases.
EXAMPLES = 60


def _cases(api: ApiWorld) -> st.SearchStrategy[Any]:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json", headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    return st.one_of([operation.as_strategy(generation_mode=mode) for operation in operations
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])


@pytest.mark.slow
def test_no_request_gets_a_5xx_and_a_refused_one_writes_nothing(api: ApiWorld) -> None:
    # Given an account with a subscription and an invoice, so some ids exist
    account = api.account(external_id="crm-1")
    api.subscription(account["id"])
    api.renew()
    statuses: list[int] = []

    # Derandomized: with random draws about one run in five reached no accepted request
    # among its 60 (the check below failed, on the code before and after 4 December), so
    # CI's verdict depended on the draw. The same 60 cases each run, both sides reached.
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                         phases=[hypothesis.Phase.generate], derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(case=_cases(api))
    def run(case: Any) -> None:
        before = api.row_counts()
        response = case.call(base_url=api.url, headers=AUTH, timeout=10)
        statuses.append(response.status_code)
        assert response.status_code < 500, (case.method, case.path, response.text)
        if response.status_code >= 400:
            after = api.row_counts()
            if response.status_code in (404, 409):
                before.pop("idempotency_keys"), after.pop("idempotency_keys")
            assert after == before, (case.method, case.path, response.status_code)

    run()
    # The run reached both sides: accepted requests and refused ones
    assert any(status < 300 for status in statuses)
    assert any(status == 422 for status in statuses)
