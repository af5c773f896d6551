"""Every response (RULES.md 7.4): cards in the fixed order (28), each order offered once (27)."""

from __future__ import annotations

import re

import yaml

from hooks.findings import ActionSpec, Finding, OrderPointer, SuggestionSpec
from hooks.response_order import CARD_ORDER_PATH, each_order_once, in_response_order
from hooks.rule_registry import all_rules

MRI, SCAN, SITE = "imaging_mri_spine", "imaging_bone_scan_whole_body", "imaging_xray_ct_site"


def create(label, key):
    return SuggestionSpec(label, (ActionSpec("create", order_key=key, reason="r"),))


def finding(rule_id, indicator="info", *suggestions):
    return Finding(rule_id=rule_id, indicator=indicator, suggestions=tuple(suggestions))


def ids(findings):
    return [f.rule_id for f in findings]


def test_cards_sort_by_indicator_then_the_catalog_order_with_data_cards_last():
    shuffled = [
        finding("UNMAPPED-CODES"),
        finding("BMA-INITIATION", "warning"),
        finding("DATA-QUALITY"),
        finding("MDT-REFERRAL"),
        finding("DATA-UNAVAILABLE", "warning"),
        finding("ORAL-EXAM", "warning"),
        finding("HYPERCALCEMIA", "critical"),
        finding("SPINAL-CORD-COMPRESSION", "critical"),
        finding("METASTASIS-CONFIRMATION"),
        finding("ICI-BONE-METASTASIS"),
    ]
    assert ids(in_response_order(shuffled)) == [
        "SPINAL-CORD-COMPRESSION",
        "HYPERCALCEMIA",
        "BMA-INITIATION",
        "ORAL-EXAM",
        "DATA-UNAVAILABLE",
        "METASTASIS-CONFIRMATION",
        "MDT-REFERRAL",
        "ICI-BONE-METASTASIS",
        "DATA-QUALITY",
        "UNMAPPED-CODES",
    ]


def test_a_rule_not_listed_sorts_after_listed_clinical_cards_and_before_data_cards():
    order = ids(
        in_response_order([finding("DATA-QUALITY"), finding("SITE-PLUGIN"), finding("BONE-SCAN-FOLLOWUP")])
    )
    assert order == ["BONE-SCAN-FOLLOWUP", "SITE-PLUGIN", "DATA-QUALITY"]


RULES_7_4_28 = """SPINAL-CORD-COMPRESSION, HYPERCALCEMIA, HYPOCALCEMIA-CORRECTION, BMA-DUPLICATION,
ZA-RENAL-DOSING, DENOSUMAB-RENAL-RISK, BISPHOSPHONATE-DOSE, DENOSUMAB-DOSE, BMA-WITHOUT-CONFIRMED-METASTASIS,
INVASIVE-DENTAL-ON-BMA, FRACTURE-RISK, BONE-IMAGING-WORKUP, BMA-INITIATION, ORAL-EXAM,
BMA-PRETREATMENT-WORKUP, CALCIUM-VITAMIN-D, BMA-SAFETY-MONITORING, RADIOTHERAPY-REFERRAL,
METASTASIS-CONFIRMATION, MDT-REFERRAL,
ICI-BONE-METASTASIS, BMA-DURATION-REVIEW, BASELINE-BONE-SCAN, BONE-SCAN-FOLLOWUP"""
"""RULES.md 7.4.28 as written in the catalog (2026-12-02), then data cards DATA-UNAVAILABLE, DATA-QUALITY,
UNMAPPED-CODES."""


def test_the_order_list_is_the_catalogs_and_names_every_registered_rule():
    listed = yaml.safe_load(CARD_ORDER_PATH.read_text(encoding="utf-8"))
    assert listed["clinical"] == re.split(r",\s*", RULES_7_4_28)
    assert listed["data"] == ["DATA-UNAVAILABLE", "DATA-QUALITY", "UNMAPPED-CODES"]
    assert set(all_rules()) <= set(listed["clinical"])


def test_an_order_two_cards_suggest_stays_on_the_higher_card_and_the_other_points_to_it():
    """Cord compression without known bone metastasis: SPINAL-CORD-COMPRESSION (critical) and
    BONE-IMAGING-WORKUP (critical) both want the urgent spine MRI; the earlier card in 7.4 keeps it."""
    scc = finding("SPINAL-CORD-COMPRESSION", "critical", create("Urgent spine MRI", MRI))
    workup = finding(
        "BONE-IMAGING-WORKUP",
        "critical",
        create("Spine MRI", MRI),
        create("Bone scan", SCAN),
        create("CT", SITE),
    )
    first, second = in_response_order([workup, scc])
    assert (first.rule_id, [s.label for s in first.suggestions]) == (
        "SPINAL-CORD-COMPRESSION",
        ["Urgent spine MRI"],
    )
    assert [s.label for s in second.suggestions] == ["Bone scan", "CT"]
    assert second.order_pointers == (OrderPointer("Spine MRI", "SPINAL-CORD-COMPRESSION"),)


def test_the_higher_indicator_keeps_the_order_whatever_the_catalog_order():
    """A warning card listed earlier loses the order to a critical card listed later."""
    early_warning = finding("HYPERCALCEMIA", "warning", create("Calcium", "lab_calcium"))
    late_critical = finding("BMA-PRETREATMENT-WORKUP", "critical", create("Calcium", "lab_calcium"))
    first, second = in_response_order([early_warning, late_critical])
    assert first.rule_id == "BMA-PRETREATMENT-WORKUP" and len(first.suggestions) == 1
    assert second.suggestions == () and second.order_pointers[0].rule_id == "BMA-PRETREATMENT-WORKUP"


def test_a_suggestion_that_also_stops_an_order_keeps_that_part():
    switch = SuggestionSpec(
        "Stop zoledronic acid, start denosumab",
        (
            ActionSpec("delete", target="MedicationRequest/za"),
            ActionSpec("create", order_key="denosumab_120mg_q4w"),
        ),
    )
    holder = finding("BMA-DUPLICATION", "critical", create("Denosumab", "denosumab_120mg_q4w"))
    later = finding("ZA-RENAL-DOSING", "warning", switch)
    _, kept = each_order_once([holder, later])
    assert [a.type for a in kept.suggestions[0].actions] == ["delete"]
    assert "another card" in kept.suggestions[0].label
    assert kept.order_pointers == (OrderPointer(switch.label, "BMA-DUPLICATION"),)


def test_different_orders_and_one_card_repeating_its_own_order_are_left_alone():
    one = finding("SPINAL-CORD-COMPRESSION", "critical", create("MRI", MRI), create("MRI again", MRI))
    other = finding("BASELINE-BONE-SCAN", "info", create("Bone scan", SCAN))
    result = each_order_once([one, other])
    assert result == [one, other]
    assert all(f.order_pointers == () for f in result)
