"""`cds_service.prefetch` reads known-bad prefetch values and search answers as unavailable (issue 11).

Unit tests with a stub search client: what the FHIR client hands over is the prefetch module's input, and
an OperationOutcome with an error or fatal issue among a search's resources means the search did not
complete, so its key fails (412 for the conditions) instead of reading as "no Conditions".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from cds_service.prefetch import error_outcome, malformed_bundle, resolve, unusable_prefetch

TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
}
PATIENT = {"resourceType": "Patient", "id": "p1"}
CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}


def outcome(severity: str, code: str = "too-costly") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code}]}


@dataclass
class Answer:
    ok: bool
    resources: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""


class StubClient:
    def __init__(self, answers: dict[str, Answer]):
        self.answers = answers

    def search_all(self, base_url, queries, token, request_id=None) -> dict[str, Any]:
        return {key: self.answers[key] for key in queries}


def body(prefetch: dict[str, Any], server: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"context": {"patientId": "p1"}, "prefetch": prefetch}
    if server:
        request["fhirServer"] = server
    return request


@pytest.mark.parametrize(
    "value,reason",
    [
        (None, None),
        (PATIENT, None),
        ({"resourceType": "Bundle", "entry": [{"resource": CONDITION}]}, None),
        ({"resourceType": "Bundle"}, None),
        ({"resourceType": "Bundle", "entry": 0}, "Bundle.entry is not a list"),
        ({"resourceType": "Bundle", "entry": {}}, "Bundle.entry is not a list"),
        ({"resourceType": "Bundle", "entry": ["x"]}, "Bundle has a malformed entry"),
        ({"resourceType": "Bundle", "entry": [{"resource": []}]}, "Bundle has a malformed entry"),
        ({"resourceType": "OperationOutcome"}, "prefetch holds an OperationOutcome"),
        ("x", "prefetch value is not a FHIR resource"),
    ],
)
def test_unusable_prefetch_values(value, reason):
    assert unusable_prefetch(value) == reason


def test_only_error_and_fatal_issues_make_a_search_incomplete():
    assert error_outcome([CONDITION, outcome("warning"), outcome("information")]) is None
    assert (
        error_outcome([outcome("error", "processing")])
        == "search returned an OperationOutcome (error: processing)"
    )
    assert malformed_bundle({"entry": [{"resource": outcome("fatal")}]}) == (
        "search returned an OperationOutcome (fatal: too-costly)"
    )


def test_a_malformed_prefetch_key_without_a_server_is_unavailable_with_the_reason():
    resolved = resolve(
        TEMPLATES,
        body({"patient": PATIENT, "conditions": {"resourceType": "Bundle", "entry": "x"}}),
        StubClient({}),
    )
    assert resolved.unavailable_types == {"Condition"}
    assert resolved.failed == {"conditions": "Bundle.entry is not a list and no fhirServer"}


def test_a_malformed_prefetch_key_is_fetched_from_the_server_instead():
    client = StubClient({"conditions": Answer(True, [CONDITION])})
    resolved = resolve(
        TEMPLATES,
        body({"patient": PATIENT, "conditions": {"resourceType": "Bundle", "entry": 0}}, "https://f"),
        client,
    )
    assert resolved.unavailable_types == set() and resolved.by_type["Condition"] == [CONDITION]


def test_a_server_search_answer_holding_a_fatal_outcome_fails_its_key():
    """The contract for the FHIR client: pass a search's OperationOutcome entries on (or fail the search);
    a fatal one then makes the key unavailable, never an empty list."""
    client = StubClient({"conditions": Answer(True, [outcome("fatal")])})
    resolved = resolve(TEMPLATES, body({"patient": PATIENT}, "https://f"), client)
    assert resolved.unavailable_types == {"Condition"}
    assert "too-costly" in resolved.failed["conditions"]
