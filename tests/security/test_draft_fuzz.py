"""Property-based fuzzing of order-hook drafts: whatever the EHR drafts, a clear answer and never a 5xx.

Structure-aware: each example starts from valid FHIR R4 drafts the rules act on (denosumab at the
osteoporosis dose, which DENOSUMAB-DOSE rewrites with an `update`; zoledronic acid beside it, which
BMA-DUPLICATION deletes; a tooth extraction as a ServiceRequest and as a Procedure) for a patient with
a confirmed bone metastasis, then mutates them the way broken EHRs and attackers do: a field replaced by
a value of the wrong type (strings, numbers, booleans, null, empty or nested objects and arrays, up to
90 levels deep), a field removed, an unknown field added, ids repeated. Sent through the Flask app as
order-select and order-sign.

Properties: the status is below 500; an error has a code and a message; a 200's suggestions carry only
resources that are valid FHIR R4 (an `update` copies the draft, so an invalid draft must never get
that far). The run is derandomised and sized to finish in well under a minute on a busy 2-core machine.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.app import create_app
from fhir_mappings.model_check import invalid_reason
from tests.conftest import make_settings
from tests.scenarios.scenario_files import hook_request, load_scenarios

SCENARIO = "os_denosumab_60mg_for_bone_metastasis"  # confirmed bone metastasis, denosumab 60 mg drafted
SERVICES = {
    "order-select": "/cds-services/bonemet-order-select",
    "order-sign": "/cds-services/bonemet-order-sign",
}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    built = create_app(make_settings(Path(tmp_path_factory.mktemp("draft-fuzz"))))
    built.config["TESTING"] = True
    return built


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def chart_request(hook: str) -> dict[str, Any]:
    scenario = next(s for s in load_scenarios() if s.name == SCENARIO)
    body = hook_request(scenario)
    body["hook"] = hook
    return body


BODIES = {hook: chart_request(hook) for hook in SERVICES}
PATIENT_REFERENCE = {"reference": f"Patient/{BODIES['order-sign']['context']['patientId']}"}
DENOSUMAB_60 = BODIES["order-sign"]["context"]["draftOrders"]["entry"][0]["resource"]


def medication(code: str, display: str, dose_mg: float, period: int, unit: str, route: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "draft",
        "intent": "order",
        "subject": PATIENT_REFERENCE,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": display}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": period, "periodUnit": unit}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": dose_mg,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
                "route": {"coding": [{"system": SNOMED, "code": route}]},
            }
        ],
        "authoredOn": DENOSUMAB_60["authoredOn"],
    }


EXTRACTION = {"coding": [{"system": SNOMED, "code": "55162003", "display": "Tooth extraction"}]}
BASE_DRAFTS = (
    DENOSUMAB_60,
    medication("77655", "zoledronic acid", 4, 4, "wk", "47625008"),
    medication("993452", "Prolia", 60, 6, "mo", "34206005"),
    {
        "resourceType": "ServiceRequest",
        "id": "s",
        "status": "draft",
        "intent": "order",
        "subject": PATIENT_REFERENCE,
        "code": EXTRACTION,
        "authoredOn": DENOSUMAB_60["authoredOn"],
    },
    {
        "resourceType": "Procedure",
        "id": "p",
        "status": "preparation",
        "subject": PATIENT_REFERENCE,
        "code": EXTRACTION,
    },
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a resource a value sits (keys and list indexes), outermost first."""
    found: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


def nested(depth: int, as_list: bool) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


CONTAINERS = st.sampled_from(
    [{}, [], [{}], [None], ["x"], [5], {"value": "x"}, {"coding": "x"}, {"reference": 5}]
)
WRONG_VALUES = st.one_of(
    st.sampled_from(["", "twice", "60 mg", "Patient/x", "wk", "mo", "draft", "9999-12-31", "NaN"]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([True, False, None]),
    CONTAINERS,  # wrong shapes are what broke readers: weighted up
    CONTAINERS,
    st.builds(nested, st.integers(min_value=1, max_value=90), st.booleans()),
    st.text(max_size=12),
)
# Where the rules and the suggestion builder read: mutated half the time, the rest anywhere in the draft.
HOT_PATHS = (
    ("dosageInstruction",),
    ("dosageInstruction", 0),
    ("dosageInstruction", 0, "timing"),
    ("dosageInstruction", 0, "timing", "repeat"),
    ("dosageInstruction", 0, "timing", "repeat", "periodUnit"),
    ("dosageInstruction", 0, "timing", "repeat", "period"),
    ("dosageInstruction", 0, "timing", "repeat", "frequency"),
    ("dosageInstruction", 0, "doseAndRate"),
    ("dosageInstruction", 0, "doseAndRate", 0, "doseQuantity"),
    ("dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "value"),
    ("dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "code"),
    ("medicationCodeableConcept",),
    ("medicationCodeableConcept", "coding"),
    ("medicationCodeableConcept", "coding", 0, "code"),
    ("code",),
    ("code", "coding", 0),
    ("subject",),
    ("status",),
    ("authoredOn",),
)
NEW_KEYS = st.sampled_from(
    ["unknownField", "_status", "modifierExtension", "extension", "contained", "JohnDoe"]
)


@st.composite
def mutated_drafts(draw: Any) -> list[dict[str, Any]]:
    chosen = draw(st.lists(st.sampled_from(range(len(BASE_DRAFTS))), min_size=1, max_size=3))
    drafts = [copy.deepcopy(BASE_DRAFTS[i]) for i in chosen]
    for index, resource in enumerate(drafts):
        resource["id"] = f"{resource['resourceType'][0].lower()}{index}"
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        resource = draws_one(draw, drafts)
        kind = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add", "repeat-id"]))
        if kind == "add":
            resource[draw(NEW_KEYS)] = draw(WRONG_VALUES)
        elif kind == "repeat-id":
            resource["id"] = drafts[0]["id"]
        else:
            everywhere = [p for p in paths(resource) if p != ("resourceType",)]
            hot = [p for p in HOT_PATHS if p in everywhere]
            path = draw(st.sampled_from(hot if hot and draw(st.integers(0, 3)) else everywhere))
            replace_at(
                resource, path, None if kind == "remove" else draw(WRONG_VALUES), remove=kind == "remove"
            )
    return drafts


def draws_one(draw: Any, drafts: list[dict[str, Any]]) -> dict[str, Any]:
    return drafts[draw(st.integers(min_value=0, max_value=len(drafts) - 1))]


def replace_at(resource: dict[str, Any], path: tuple[Any, ...], value: Any, *, remove: bool) -> None:
    parent: Any = resource
    for key in path[:-1]:
        parent = parent[key]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


def request_with(hook: str, drafts: list[dict[str, Any]]) -> str:
    body = copy.deepcopy(BODIES[hook])
    body["context"]["draftOrders"]["entry"] = [{"resource": d} for d in drafts]
    if hook == "order-select":
        first = drafts[0]
        body["context"]["selections"] = [f"{first.get('resourceType')}/{first.get('id')}"]
    return json.dumps(body)  # json, not orjson: integers beyond 64 bits must reach the server too


def assert_clear_answer(status: int, answer: dict[str, Any]) -> None:
    assert status < 500, answer
    if status != 200:
        assert 400 <= status < 500 and isinstance(answer.get("error"), str) and answer.get("message"), answer
        return
    for card in answer["cards"]:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                if "resource" in action:
                    assert invalid_reason(action["resource"], any_resource_type=True) is None, action


def answer_to(client: FlaskClient, drafts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    data = request_with("order-sign", drafts)
    response = client.post(SERVICES["order-sign"], data=data, content_type="application/json")
    assert response.status_code == 200, response.get_json()
    cards: list[dict[str, Any]] = response.get_json()["cards"]
    return cards


def action_types(cards: list[dict[str, Any]], topic: str) -> list[str]:
    card = next(c for c in cards if c["source"]["topic"]["code"] == topic)
    return [a["type"] for s in card.get("suggestions", []) for a in s["actions"]]


def test_the_unmutated_drafts_reach_the_update_and_delete_paths(client: FlaskClient) -> None:
    """Without this, a fuzz run that only ever met 400s would prove nothing about the suggestion builder."""
    assert action_types(answer_to(client, [copy.deepcopy(BASE_DRAFTS[2])]), "DENOSUMAB-DOSE") == ["update"]
    zoledronic = copy.deepcopy(BASE_DRAFTS[1])
    zoledronic["id"] = "z1"
    cards = answer_to(client, [copy.deepcopy(BASE_DRAFTS[0]), zoledronic])
    assert "delete" in action_types(cards, "BMA-DUPLICATION")


@pytest.mark.parametrize("hook", sorted(SERVICES))
@FUZZ
@given(drafts=mutated_drafts())
def test_mutated_drafts_never_get_a_5xx(client: FlaskClient, hook: str, drafts: list[dict[str, Any]]) -> None:
    response = client.post(SERVICES[hook], data=request_with(hook, drafts), content_type="application/json")
    assert_clear_answer(response.status_code, response.get_json(silent=True) or {})
