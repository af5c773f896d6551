"""What a real chart says, recognised (RULES.md 7.1.1, 7.1.2, 7.1.4, 7.4.29).

Lung cancer from the SNOMED CT descendants charts carry; a past lung cancer counts only beside an active
bone metastasis; site-specific bone metastasis codes; text-only entries found for UNMAPPED-CODES (never as
facts); another patient's draft orders dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_mappings.build_facts import FOREIGN, build_facts
from fhir_mappings.codesets import load_codesets
from fhir_mappings.thresholds import Thresholds
from tests.mappings.fhir_builders import ICD10, ICD10CM, PID, chart, condition, patient

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CODES = load_codesets()
T = Thresholds.load()
SYNTHEA_AND_HISTOLOGY = [
    "93880001",
    "254626006",
    "254634000",
    "254629004",
    "448993007",
    "424132000",
    "425048006",
    "422968005",
    "423121009",
    "67811000119102",
    "67821000119109",
    "67831000119107",
    "67841000119103",
]


def facts_of(*resources, draft_orders=None, hook="patient-view"):
    return build_facts(
        PID,
        chart(patient(), *resources),
        hook=hook,
        now=NOW,
        draft_orders=draft_orders,
        codesets=CODES,
        thresholds=T,
    )


def categories(facts):
    return sorted((c.category, c.history) for c in facts.conditions)


def with_text(resource, text, display=None):
    resource["code"]["text"] = text
    if display:
        resource["code"]["coding"][0]["display"] = display
    return resource


@pytest.mark.parametrize("code", SYNTHEA_AND_HISTOLOGY)
def test_snomed_lung_cancer_descendants_are_lung_cancer(code):
    assert categories(facts_of(condition(code, SNOMED))) == [("lung_cancer", False)]


def test_suspected_lung_cancer_situation_is_not_lung_cancer():
    """Synthea's 162573006 "Suspected lung cancer (situation)" comes before the diagnosis: not lung cancer."""
    assert categories(facts_of(condition("162573006", SNOMED))) == []


@pytest.mark.parametrize("status", ["recurrence", "relapse", "active"])
def test_recurrence_and_relapse_are_active(status):
    assert categories(facts_of(condition("C34.90", clinical=status))) == [("lung_cancer", False)]


@pytest.mark.parametrize("status", ["resolved", "remission", "inactive"])
def test_a_past_lung_cancer_counts_only_with_an_active_bone_metastasis(status):
    past = condition("C34.11", clinical=status)
    assert categories(facts_of(past)) == []
    assert categories(facts_of(past, condition("C79.51"))) == [
        ("bone_metastasis", False),
        ("lung_cancer", True),
    ]
    resolved_bone = condition("C79.51", clinical="resolved")
    assert categories(facts_of(past, resolved_bone)) == []


@pytest.mark.parametrize(
    "code,system",
    [("Z85.118", ICD10CM), ("Z85.110", ICD10CM), ("Z85.1", ICD10), ("415082004", SNOMED)],
)
def test_personal_history_of_lung_cancer_counts_only_with_an_active_bone_metastasis(code, system):
    history = condition(code, system)
    assert categories(facts_of(history)) == []
    found = facts_of(history, condition("C79.5", ICD10, verification="provisional"))
    assert categories(found) == [("bone_metastasis", False), ("lung_cancer", True)]


def test_family_history_and_other_z85_codes_never_count():
    """Z80.1 is a family history; Z85.3 a breast cancer history: neither is this patient's lung cancer."""
    bone = condition("C79.51")
    assert categories(facts_of(condition("Z80.1", ICD10CM), condition("Z85.3", ICD10CM), bone)) == [
        ("bone_metastasis", False)
    ]


def test_an_active_lung_cancer_makes_the_history_codes_irrelevant():
    found = facts_of(condition("C34.90"), condition("Z85.118"), condition("C79.51"))
    assert categories(found) == [("bone_metastasis", False), ("lung_cancer", False)]


def test_vertebral_column_metastasis_is_a_bone_metastasis():
    assert categories(facts_of(condition("94602001", SNOMED))) == [("bone_metastasis", False)]


def test_text_only_conditions_become_unmapped_entries_never_conditions():
    local = {"system": "urn:oid:1.2.156.112604.1.2.9", "code": "LC-001"}
    chinese = with_text({**condition("LC-001"), "code": {"coding": [local]}}, "右肺腺癌 IV期")
    english = condition("X1", "urn:local", verification="confirmed")
    english["code"]["coding"][0]["display"] = "Metastasis to bone, thoracic spine"
    coded = with_text(condition("C34.90"), "lung cancer")
    facts = facts_of(chinese, english, coded)
    assert categories(facts) == [("lung_cancer", False)]
    found = {(e.reference, e.concept) for e in facts.unmapped}
    assert found == {
        (f"Condition/{chinese['id']}", "lung_cancer"),
        (f"Condition/{english['id']}", "bone_metastasis"),
    }
    entry = next(e for e in facts.unmapped if e.concept == "lung_cancer")
    assert "LC-001" in entry.codes and "肺腺癌" in entry.text


def test_a_negation_or_unrelated_text_is_not_coded_as_anything():
    """Text never becomes a Condition fact, whatever it says; unrelated text is not even listed."""
    unrelated = with_text(condition("X2", "urn:local"), "Type 2 diabetes mellitus")
    assert facts_of(unrelated).unmapped == () and categories(facts_of(unrelated)) == []


def medication_request(rid, concept=None, reference=None, status="active", contained=None):
    resource = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{PID}"},
    }
    if concept is not None:
        resource["medicationCodeableConcept"] = concept
    if reference is not None:
        resource["medicationReference"] = reference
    if contained is not None:
        resource["contained"] = contained
    return resource


def test_text_only_orders_become_unmapped_entries():
    local_za = medication_request(
        "za-local",
        {"coding": [{"system": "urn:hospital:drug", "code": "YP0042", "display": "唑来膦酸注射液 4mg"}]},
    )
    keytruda = medication_request(
        "pembro", reference={"reference": "Medication/absent", "display": "Keytruda 100 mg"}
    )
    coded = medication_request(
        "za-coded", {"coding": [{"system": RXNORM, "code": "77655"}], "text": "zoledronic acid"}
    )
    contained = medication_request(
        "za-contained",
        reference={"reference": "#m1"},
        contained=[
            {
                "resourceType": "Medication",
                "id": "m1",
                "code": {"coding": [{"system": RXNORM, "code": "77655"}]},
            }
        ],
    )
    erroneous = medication_request(
        "za-error",
        {"coding": [{"system": "urn:x", "code": "1", "display": "zoledronic acid"}]},
        status="entered-in-error",
    )
    facts = facts_of(local_za, keytruda, coded, contained, erroneous)
    assert {(e.reference, e.concept) for e in facts.unmapped} == {
        ("MedicationRequest/za-local", "bma"),
        ("MedicationRequest/pembro", "ici"),
    }


def test_unmapped_drafts_are_listed_too():
    draft = medication_request(
        "d1", {"coding": [{"system": "urn:local", "code": "ZOL", "display": "Zometa 4 mg"}]}
    )
    draft["status"] = "draft"
    facts = facts_of(
        draft_orders={"resourceType": "Bundle", "entry": [{"resource": draft}]}, hook="order-sign"
    )
    assert [(e.reference, e.concept, e.is_draft) for e in facts.unmapped] == [
        ("MedicationRequest/d1", "bma", True)
    ]


def test_a_draft_order_of_another_patient_is_dropped_and_reported():
    mine = medication_request("d-mine", {"coding": [{"system": RXNORM, "code": "77655"}]}, status="draft")
    theirs = medication_request("d-theirs", {"coding": [{"system": RXNORM, "code": "77655"}]}, status="draft")
    theirs["subject"] = {"reference": "Patient/someone-else"}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": mine}, {"resource": theirs}]}
    facts = facts_of(draft_orders=bundle, hook="order-sign")
    assert [d.reference for d in facts.drafts] == ["MedicationRequest/d-mine"]
    assert [(i.analyte, i.reference) for i in facts.data_issues] == [(FOREIGN, "MedicationRequest/d-theirs")]


@pytest.mark.parametrize(
    "subject,own",
    [
        (f"Patient/{PID}", True),
        (f"https://ehr.example/fhir/Patient/{PID}", True),
        (f"Patient/{PID}/_history/3", True),
        (f"urn:uuid:{PID}", True),
        (f"Patient/x{PID}", False),
        (f"OtherPatient/{PID}", False),
        ("urn:uuid:someone-else", False),
    ],
)
def test_which_subject_references_are_this_patient(subject, own):
    bone = condition("C79.51")
    bone["subject"] = {"reference": subject}
    facts = facts_of(condition("C34.90"), bone)
    assert (("bone_metastasis", False) in categories(facts)) is own
    assert [i.analyte for i in facts.data_issues] == ([] if own else [FOREIGN])


@pytest.mark.parametrize("code", ["170935008", "170936009"])
def test_hospice_finding_condition_documents_limited_life_expectancy_while_active(code):
    """VSAC Hospice Care Ambulatory findings (full care by hospice; shared care hospice and GP): RULES.md
    7.1.7 reads an active hospice Condition as documented life expectancy under 3 months."""
    from hooks.rules._shared import life_expectancy_limitations

    facts = facts_of(condition("C34.90"), condition(code, SNOMED))
    assert [c.category for c in facts.conditions_in("hospice")] == ["hospice"]
    assert life_expectancy_limitations(facts, T)


@pytest.mark.parametrize(("code", "clinical"), [("170935008", "resolved"), ("103735009", "active")])
def test_resolved_hospice_finding_or_palliative_care_does_not_limit_life_expectancy(code, clinical):
    """A hospice stay that ended is not today's; palliative care (103735009) is not hospice."""
    from hooks.rules._shared import life_expectancy_limitations

    facts = facts_of(condition("C34.90"), condition(code, SNOMED, clinical=clinical))
    assert not facts.conditions_in("hospice")
    assert not life_expectancy_limitations(facts, T)


def test_bone_pain_condition_is_recognised():
    facts = facts_of(condition("C34.90"), condition("12584003", SNOMED))
    assert [c.category for c in facts.conditions_in("bone_pain")] == ["bone_pain"]
