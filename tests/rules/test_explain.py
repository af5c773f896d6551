"""explain_rules: every catalog rule for one patient, fired or not, and why (issue 12, the bone health
review). The gates, unreadable data and the hooks a rule belongs to each give their own reason."""

from __future__ import annotations

from dataclasses import replace

from fhir_mappings.facts import UnmappedEntry
from hooks.data_notices import DATA_CARD_IDS
from hooks.explain import NO_LUNG_CANCER, ORDER_ONLY, UNEXPLAINED, explain_rules
from hooks.order_rules import ORDER_RULE_IDS
from hooks.patient_view import SERVICE as PATIENT_VIEW
from hooks.rule_registry import all_rules
from hooks.runner import run_rules
from tests.rules.factories import THRESHOLDS, bone_metastasis, calcium, crcl, facts


def by_id(verdicts):
    return {v.rule_id: v for v in verdicts}


def new_bone_metastasis():
    return facts(conditions=[bone_metastasis()], calcium_status=calcium(9.4), clearance=crcl(70))


def test_every_rule_once_in_the_clinical_order_then_the_data_cards():
    ids = [v.rule_id for v in explain_rules(new_bone_metastasis(), THRESHOLDS)]
    assert sorted(ids[: len(all_rules())]) == sorted(all_rules())
    assert ids[len(all_rules()) :] == list(DATA_CARD_IDS)
    assert (
        ids.index("SPINAL-CORD-COMPRESSION") < ids.index("BMA-INITIATION") < ids.index("BONE-SCAN-FOLLOWUP")
    )


def test_fired_rules_are_the_findings_and_their_reason_is_the_card_summary():
    chart = new_bone_metastasis()
    verdicts = by_id(explain_rules(chart, THRESHOLDS))
    fired = {rule_id for rule_id, v in verdicts.items() if v.status == "fired"}
    assert fired == {f.rule_id for f in run_rules(PATIENT_VIEW, chart, THRESHOLDS)}
    initiation = verdicts["BMA-INITIATION"]
    assert initiation.indicator == "warning" and initiation.finding is not None
    assert initiation.reason.startswith("Start denosumab 120 mg")
    assert all(v.reason and v.reason != UNEXPLAINED for v in verdicts.values())


def test_no_lung_cancer_gives_the_gate_as_every_clinical_rule_s_reason():
    chart = facts(conditions=[bone_metastasis()], with_lung_cancer=False)
    verdicts = explain_rules(chart, THRESHOLDS)
    clinical = [v for v in verdicts if v.rule_id in PATIENT_VIEW.rule_ids]
    assert {(v.status, v.reason) for v in clinical} == {("not-fired", NO_LUNG_CANCER)}


def test_lung_cancer_named_in_text_points_to_the_unmapped_codes_card():
    entry = UnmappedEntry("lung_cancer", "Condition/x", "http://local|123", "adenocarcinoma of lung")
    chart = replace(facts(with_lung_cancer=False), unmapped=(entry,))
    verdicts = by_id(explain_rules(chart, THRESHOLDS))
    assert verdicts["UNMAPPED-CODES"].status == "fired"
    assert "UNMAPPED-CODES card" in verdicts["MDT-REFERRAL"].reason


def test_order_rules_say_when_they_are_checked():
    verdicts = by_id(explain_rules(new_bone_metastasis(), THRESHOLDS))
    only_orders = set(ORDER_RULE_IDS) - set(PATIENT_VIEW.rule_ids)
    assert {(verdicts[r].status, verdicts[r].reason) for r in only_orders} == {("not-evaluated", ORDER_ONLY)}


def test_unreadable_data_names_the_type_and_raises_the_data_card():
    """Procedures could not be read: the rules that need them were not run, and say so."""
    verdicts = by_id(explain_rules(new_bone_metastasis(), THRESHOLDS, unavailable_types={"Procedure"}))
    assert verdicts["ORAL-EXAM"].status == "not-evaluated"
    assert verdicts["ORAL-EXAM"].reason.startswith("Could not read Procedure from the EHR")
    assert verdicts["BMA-INITIATION"].status == "fired"  # needs no Procedure
    assert verdicts["DATA-UNAVAILABLE"].status == "fired"
    assert "ORAL-EXAM" in verdicts["DATA-UNAVAILABLE"].finding.values["rules"]


def test_data_cards_not_fired_have_a_reason():
    verdicts = by_id(explain_rules(new_bone_metastasis(), THRESHOLDS))
    assert all(verdicts[r].status == "not-fired" and verdicts[r].reason for r in DATA_CARD_IDS)
