"""Statuses the catalog ignores are ignored; garbage in gives facts and data issues, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_mappings.build_facts import build_facts
from fhir_mappings.codesets import load_codesets
from fhir_mappings.thresholds import Thresholds
from tests.mappings.fhir_builders import PID, chart, condition, observation, patient

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CODES = load_codesets()
T = Thresholds.load()


def facts_of(*resources, resources_by_type=None):
    return build_facts(
        PID,
        resources_by_type or chart(patient(), *resources),
        hook="patient-view",
        now=NOW,
        draft_orders=None,
        codesets=CODES,
        thresholds=T,
    )


def test_refuted_and_entered_in_error_conditions_are_ignored_and_provisional_is_suspected():
    facts = facts_of(
        condition("C79.51", verification="refuted"),
        condition("C79.51", verification="entered-in-error"),
        condition("C79.51", verification="provisional"),
        condition("C34.90", clinical="resolved"),
    )
    assert [(c.category, c.verification, c.history) for c in facts.conditions] == [
        ("bone_metastasis", "suspected", False),
        # RULES.md 7.1.1: a resolved lung cancer counts (as history) beside an active bone metastasis
        ("lung_cancer", "confirmed", True),
    ]


def test_preliminary_and_cancelled_observations_are_ignored():
    facts = facts_of(
        observation("17861-6", 6.0, "mg/dL", status="preliminary"),
        observation("17861-6", 6.0, "mg/dL", status="cancelled"),
    )
    assert facts.calcium is None


def test_unknown_unit_becomes_a_data_issue_and_the_older_usable_result_is_used():
    facts = facts_of(
        observation("17861-6", 9.4, "mg/dL", when="2026-11-01"),
        observation("17861-6", 2.0, "mmol/dL", when="2026-11-20"),
    )
    assert facts.latest("calcium_total").value == 9.4
    assert any("not recognised" in issue.reason for issue in facts.data_issues)


def test_resources_of_another_patient_are_dropped_and_reported():
    stranger = observation("17861-6", 6.0, "mg/dL")
    stranger["subject"] = {"reference": "Patient/someone-else"}
    facts = facts_of(stranger)
    assert facts.calcium is None
    assert [i.analyte for i in facts.data_issues] == ["patient-mismatch"]


def test_future_dated_result_is_unusable():
    facts = facts_of(observation("17861-6", 6.0, "mg/dL", when="9999-01-01"))
    assert facts.calcium is None and facts.data_issues[0].reason == "dated in the future"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.lists(json_values, max_size=5), field_value=json_values)
def test_malformed_fhir_never_raises(garbage, field_value):
    """Wrong types, missing fields and absurd values yield facts (maybe with issues), never an exception."""
    bad_obs = observation("17861-6", 9.0, "mg/dL")
    bad_obs["valueQuantity"] = field_value
    bad_cond = condition("C79.51")
    bad_cond["code"] = field_value
    resources = {
        "Patient": [patient()],
        "Observation": [bad_obs, *garbage],
        "Condition": [bad_cond, *garbage],
        "MedicationRequest": list(garbage),
        "ImagingStudy": list(garbage),
        "Procedure": list(garbage),
    }
    facts = facts_of(resources_by_type=resources)
    assert facts.patient.reference == f"Patient/{PID}"
