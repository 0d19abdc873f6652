"""Schemathesis against /api/schema/ on a live server, as an Admin with a Bearer token.

Every operation of the schema is fuzzed (no operation is filtered out) with a bounded number of
valid and invalid examples each, then stateful scenarios chain operations along the links
schemathesis infers from the schema (a created or listed ticket, customer, message, saved reply
or handoff is fed into the operations that take its id). Checks: no 5xx, every status code and
content type is one the schema documents, and every response body validates against its
documented schema. All findings are collected and reported together, each with the request that
reproduces it. The counts (operations, calls, scenarios, server errors) are printed, and written
to the file named by API_FUZZ_REPORT for `.ci/run`.

(Schemathesis' own `from_fixture(...).parametrize()` pytest integration relies on a pytest
internal that pytest 9 removed, so the operations are driven here with Hypothesis directly.)
"""

import os
from collections import Counter
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode, checks
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "40"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "8"))
HYPOTHESIS_SETTINGS = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "derandomize": True,
    "database": None,
    "print_blob": False,
}
CHECKS = [
    checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Checks relaxed for one operation, each with its reason. Nothing is relaxed today; an entry is
# `"METHOD /path": {check, ...}` with a comment saying why.
RELAXED_CHECKS: dict[str, set] = {}
# A JWT, not an API token: fuzzing `POST /api/tokens/{id}/revoke/` (with ids it guesses, or
# follows from `GET /api/tokens/` in the stateful phase) would revoke the fuzzer's own API
# token, and no API call revokes a JWT sign-in. The server's access lifetime covers the run.
JWT_SCRIPT = """
from accounts.models import User
from accounts.token_families import issue_token_pair
print(issue_token_pair(user=User.objects.get(username="admin")).access)
"""


@pytest.fixture(scope="module")
def admin_jwt(api_server) -> str:
    return api_server.manage("shell", "-c", JWT_SCRIPT).strip().splitlines()[-1]


def label_of(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


def checks_for(operation) -> list:
    relaxed = RELAXED_CHECKS.get(label_of(operation), set())
    return [check for check in CHECKS if check not in relaxed]


def counting_session(tally: Counter) -> requests.Session:
    """A session that counts every answer and every 5xx, whichever test phase sent it."""

    def count(response, *args, **kwargs):
        tally["calls"] += 1
        if response.status_code >= 500:
            tally["server_errors"] += 1

    session = requests.Session()
    session.hooks["response"].append(count)
    return session


def fuzz_operation(operation, *, mode, base_url: str, headers: dict, session) -> str | None:
    """The first failure Hypothesis finds (shrunk) for one operation, or None."""

    label = label_of(operation)
    operation_checks = checks_for(operation)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, **HYPOTHESIS_SETTINGS)
    def run(case):
        case.call_and_validate(
            base_url=base_url,
            session=session,
            headers=headers,
            checks=operation_checks,
            timeout=30,
        )

    try:
        run()
    # Failures are AssertionErrors (several distinct ones come as a group); a request that gets
    # no answer at all (the server died) is a finding too.
    except (AssertionError, BaseExceptionGroup, requests.RequestException) as exc:
        return f"{label} ({mode.value}):\n{exc}"
    return None


def fuzz_stateful(machine, *, base_url: str, headers: dict, session, tally: Counter) -> str | None:
    """Scenarios along the inferred links; the first failure found (shrunk), or None."""

    class Scenario(machine):
        def setup(self) -> None:
            tally["scenarios"] += 1

        def before_call(self, case) -> None:
            tally["stateful_calls"] += 1

        def get_call_kwargs(self, case) -> dict:
            return {"base_url": base_url, "headers": headers, "session": session, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=checks_for(case.operation))

    # As schemathesis' own runner does: when server state changed what a replayed scenario drew
    # (FlakyStrategyDefinition, no failure behind it), go on in a fresh run with the budget left.
    for _ in range(5):
        budget = STATEFUL_SCENARIOS - tally["scenarios"]
        if budget <= 0:
            return None
        try:
            run_state_machine_as_test(
                Scenario,
                settings=settings(
                    max_examples=budget,
                    stateful_step_count=STATEFUL_STEPS,
                    # No shrinking, and random rather than derandomized choices: a scenario
                    # changes the server, so a replayed choice sequence may take another path.
                    phases=[Phase.generate],
                    **{**HYPOTHESIS_SETTINGS, "derandomize": False},
                ),
            )
            return None
        except (AssertionError, BaseExceptionGroup, requests.RequestException) as exc:
            return f"stateful scenario:\n{exc}"
        except FlakyStrategyDefinition as exc:
            # Hypothesis chains its own internals to this error too: only a failed check or a
            # request without an answer behind it is a finding.
            failure = exc.__context__
            if isinstance(failure, (AssertionError, BaseExceptionGroup, requests.RequestException)):
                return f"stateful scenario:\n{failure}"
    return None


def report(tally: Counter, *, linked: int) -> str:
    line = (
        f"API fuzz (schemathesis): operations={tally['operations']} "
        f"examples_per_operation={MAX_EXAMPLES}x2 linked_operations={linked} "
        f"scenarios={tally['scenarios']} stateful_calls={tally['stateful_calls']} "
        f"calls={tally['calls']} server_errors={tally['server_errors']} "
        f"findings={tally['findings']}"
    )
    if path := os.environ.get("API_FUZZ_REPORT"):
        Path(path).write_text(line + "\n")
    print(line)
    return line


def test_every_operation_conforms_to_the_schema(api_server, admin_jwt):
    headers = {"Authorization": f"Bearer {admin_jwt}"}
    schema = schemathesis.openapi.from_url(
        f"{api_server.base_url}/api/schema/?format=json", headers=headers, timeout=30
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40, "the schema lost most of its operations"
    labels = {label_of(operation) for operation in operations}
    assert set(RELAXED_CHECKS) <= labels, "a relaxed operation is gone: drop its entry"
    tally = Counter(operations=len(operations))
    findings = []
    with counting_session(tally) as session:
        # The first product search loads the embedding model (seconds, more on a busy machine):
        # done once here, so Hypothesis does not see a first call time out and call it flaky.
        session.get(
            f"{api_server.base_url}/api/knowledge/search/",
            params={"q": "business cards"},
            headers=headers,
            timeout=300,
        )
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                finding = fuzz_operation(
                    operation,
                    mode=mode,
                    base_url=api_server.base_url,
                    headers=headers,
                    session=session,
                )
                if finding:
                    findings.append(finding)
        # Operations that consume what another one answered (an id, a reference, a slug).
        machine = schema.as_state_machine()
        linked = len(machine.bundles)
        assert linked >= 20, "the stateful phase lost its links between operations"
        finding = fuzz_stateful(
            machine, base_url=api_server.base_url, headers=headers, session=session, tally=tally
        )
        if finding:
            findings.append(finding)
    tally["findings"] = len(findings)
    report(tally, linked=linked)
    assert not findings, f"{len(findings)} finding(s):\n\n" + "\n\n".join(findings)
    assert tally["server_errors"] == 0, "a 5xx that no check reported"
