"""Adversarial FHIR through the HTTP API: a clear answer every time, and no value read in the wrong unit.

tests/mappings/test_status_and_robustness.py feeds garbage to `build_facts` directly. This file sends
it the way an attacker or a broken EHR would, inside a hook request, so the request parser, the JSON
Schemas, prefetch handling, the rules and card rendering all see it. Every answer must be a 200 with
cards or a 4xx with an error code, never a 5xx; and the only calcium in the chart, when it is absurd,
in an unknown unit or dated in the future, must never produce a hypercalcemia card, while a plausible
one in any accepted unit must be compared after conversion (3.2 mmol/L is high, 12 mg/L is not).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.app import create_app
from fhir_mappings.thresholds import Thresholds
from tests.conftest import make_settings
from tests.http.requests_factory import PATIENT_ID, hook_request

PATH = "/cds-services/bonemet-patient-view"
LOINC_TOTAL_CALCIUM = "17861-6"
MG_DL_PER_UNIT = {"mg/dL": 1.0, "mmol/L": 4.008, "mg/L": 0.1, "meq/L": 2.004}  # fhir_mappings/data/units.yaml
UNKNOWN_UNITS = ["mmol/dL", "furlong", "", "mg", "mg/dl/L", "10*3/uL", "%", "mEq"]
PLAUSIBLE_MG_DL = (2.0, 25.0)
T = Thresholds.load()
HIGH_MG_DL = T["calcium_high_mg_dl"]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    built = create_app(make_settings(Path(tmp_path_factory.mktemp("fuzz"))))
    built.config["TESTING"] = True
    return built


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def recent(days: int = 2) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def calcium(value: Any, unit: Any, when: Any = None, **fields: Any) -> dict[str, Any]:
    """A total calcium coded as a laboratory would: the molar LOINC code for a molar unit (RULES.md 7.1.8:
    a unit that contradicts its code makes the result unusable, which tests/mappings checks)."""
    molar = isinstance(unit, str) and unit.lower() in ("mmol/l", "meq/l")
    resource = {
        "resourceType": "Observation",
        "id": "ca-fuzz",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "2000-8" if molar else LOINC_TOTAL_CALCIUM}]
        },
        "effectiveDateTime": when or recent(),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }
    resource.update(fields)
    return resource


def with_observations(*entries: Any) -> dict[str, Any]:
    body = hook_request()
    body["prefetch"]["observations"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": e} for e in entries],
    }
    return body


def post(client: FlaskClient, body: Any) -> tuple[int, dict[str, Any]]:
    """Sent as raw JSON text, so values Python's json would refuse to encode reach the server too."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, allow_nan=True)
    response = client.post(PATH, data=data, content_type="application/json")
    return response.status_code, response.get_json(silent=True) or {}


def rule_ids(answer: dict[str, Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in answer.get("cards", [])]


def assert_clear_answer(status: int, answer: dict[str, Any]) -> None:
    assert status < 500, answer
    if status == 200:
        assert isinstance(answer["cards"], list)
    else:
        assert 400 <= status < 500 and isinstance(answer.get("error"), str) and answer.get("message")


# --- the unit oracle -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (3.2, "mmol/L", True),  # 12.8 mg/dL: read as mg/dL it would look like severe hypocalcaemia
        (12.0, "mg/dL", True),
        (120.0, "mg/L", True),  # 12 mg/dL
        (12.0, "mg/L", False),  # 1.2 mg/dL: implausible once converted, ignored, never "normal" or "high"
        (2.4, "mmol/L", False),  # 9.6 mg/dL, normal; read as mg/dL it would be implausible
        (6.0, "meq/L", True),  # 12.0 mg/dL
    ],
)
def test_calcium_is_compared_after_conversion(client: FlaskClient, value, unit, expected) -> None:
    status, answer = post(client, with_observations(calcium(value, unit)))
    assert status == 200
    assert ("HYPERCALCEMIA" in rule_ids(answer)) is expected, rule_ids(answer)


@pytest.mark.parametrize(
    ("value", "unit", "when"),
    [
        (1e308, "mg/dL", None),
        (-5, "mg/dL", None),
        (0, "mmol/L", None),
        ("NaN", "mg/dL", None),
        ("12", "mg/dL", None),
        (12.0, "furlong", None),
        (12.0, "mg/dl/L", None),
        (12.0, "mg/dL", "9999-12-31"),
        (12.0, "mg/dL", "9999-12-31T23:59:59Z"),
    ],
)
def test_absurd_calcium_is_reported_as_data_quality_and_never_graded(client, value, unit, when) -> None:
    status, answer = post(client, with_observations(calcium(value, unit, when)))
    assert status == 200
    assert "HYPERCALCEMIA" not in rule_ids(answer)
    assert "DATA-QUALITY" in rule_ids(answer)


numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e308, max_value=1e308),
    st.sampled_from([1e308, -5, 0, 1e-300, 2.62, 2.63, 10.5, 10.6, 25.0, 25.1]),
    st.integers(min_value=-(2**53), max_value=2**53),
)


@FUZZ
@given(
    value=numbers,
    unit=st.sampled_from(sorted(MG_DL_PER_UNIT) + UNKNOWN_UNITS),
    when=st.sampled_from(["recent", "9999-01-01", "2999-06-30T00:00:00Z"]),
)
def test_numeric_calcium_in_any_unit_is_graded_only_when_convertible(client, value, unit, when) -> None:
    status, answer = post(client, with_observations(calcium(value, unit, None if when == "recent" else when)))
    assert status == 200, answer
    fired = "HYPERCALCEMIA" in rule_ids(answer)
    factor = MG_DL_PER_UNIT.get(unit)
    usable = (
        factor is not None and when == "recent" and PLAUSIBLE_MG_DL[0] <= value * factor <= PLAUSIBLE_MG_DL[1]
    )
    if not usable:
        assert not fired and "DATA-QUALITY" in rule_ids(answer)
    elif abs(value * factor - HIGH_MG_DL) > 0.05:  # away from the limit, where rounding could decide
        assert fired is (value * factor > HIGH_MG_DL), (value, unit, rule_ids(answer))


# --- structural garbage ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
FIELDS = [
    "valueQuantity",
    "code",
    "subject",
    "status",
    "effectiveDateTime",
    "referenceRange",
    "resourceType",
    "id",
    "extension",
    "component",
]


@pytest.mark.parametrize("field", ["id", "status"])
def test_array_where_fhir_has_a_string_is_not_a_500(client, field: str) -> None:
    status, answer = post(client, with_observations(calcium(12.0, "mg/dL", **{field: ["final"]})))
    assert_clear_answer(status, answer)


@FUZZ
@given(field=st.sampled_from(FIELDS), garbage=json_values, extra=st.lists(json_values, max_size=3))
def test_garbage_fields_get_cards_or_a_clear_4xx(client, field, garbage, extra) -> None:
    valid = calcium(12.0, "mg/dL")
    status, answer = post(client, with_observations({**valid, field: garbage}, *extra))
    assert_clear_answer(status, answer)
    if status == 200 and field in MEANINGFUL_FIELDS and not _still_valid(field, garbage, valid[field]):
        # the 12 mg/dL with a mangled value, code, status or date is not a usable result
        assert "HYPERCALCEMIA" not in rule_ids(answer), (field, garbage)


# Not "subject": a result without a usable subject came from a search scoped to this patient and is kept;
# only a reference to another patient drops it (tests/mappings/test_status_and_robustness.py).
MEANINGFUL_FIELDS = ("valueQuantity", "code", "status", "effectiveDateTime")


def _still_valid(field: str, garbage: Any, original: Any) -> bool:
    return garbage == original or (field == "status" and garbage in ("final", "amended", "corrected"))


@FUZZ
@given(
    key=st.sampled_from(["observations", "conditions", "patient", "medications", "imaging"]),
    garbage=json_values,
)
def test_garbage_prefetch_values_get_cards_or_a_clear_4xx(client, key, garbage) -> None:
    body = hook_request()
    body["prefetch"][key] = garbage
    assert_clear_answer(*post(client, body))


@pytest.mark.parametrize(("depth", "expected"), [(10, 200), (100, 200), (600, 200), (5000, 400)])
def test_deeply_nested_extension_is_answered_clearly(client, depth: int, expected: int) -> None:
    """Nesting the JSON parser refuses (past ~1,000 levels) is a 400; below that the malformed resource
    is not used as a calcium result: never a 5xx, never a hypercalcemia card from it."""
    nested = "[" * depth + "]" * depth
    body = json.dumps(with_observations(calcium(12.0, "mg/dL", extension=[]))).replace(
        '"extension": []', f'"extension": {nested}'
    )
    status, answer = post(client, body)
    assert_clear_answer(status, answer)


@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", "1e400", "123456789012345678901234567890"]
)
def test_non_json_numbers_are_a_400_or_a_data_quality_card(client, literal: str) -> None:
    body = json.dumps(with_observations(calcium(0, "mg/dL"))).replace('"value": 0', f'"value": {literal}')
    status, answer = post(client, body)
    assert_clear_answer(status, answer)
    assert "HYPERCALCEMIA" not in rule_ids(answer)


def test_huge_bundle_is_answered_and_the_newest_result_used(client: FlaskClient) -> None:
    """3,000 old normal results and one recent high one: the high one is found, in a bounded time."""
    old = [dict(calcium(9.4, "mg/dL", recent(10)), id=f"old-{i}") for i in range(3000)]
    status, answer = post(client, with_observations(*old, calcium(3.2, "mmol/L")))
    assert status == 200
    assert "HYPERCALCEMIA" in rule_ids(answer)


def test_bundle_over_the_body_limit_is_413(client: FlaskClient) -> None:
    entries = [dict(calcium(9.4, "mg/dL"), id=f"o-{i}", note=[{"text": "x" * 1000}]) for i in range(6000)]
    status, answer = post(client, with_observations(*entries))
    assert status == 413 and answer["error"] == "payload-too-large"
