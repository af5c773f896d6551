"""ICI-BONE-METASTASIS (consensus 6.2.1; seed 002): bone metastasis on immunotherapy without a BMA."""

from __future__ import annotations

from hooks.rules.ici_bone_metastasis import ici_bone_metastasis
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    condition,
    denosumab,
    event,
    facts,
    fhir_chart,
    fhir_condition,
    fhir_medication_request,
    medication,
    patient_view_card,
    zoledronic_acid,
)

RULE = "ICI-BONE-METASTASIS"


def pembrolizumab(**kw):
    return medication("pembrolizumab", agent_class="ici", interval_days=21, dose_mg=200, **kw)


def test_ici_without_bma_fires_info_without_suggestions():
    """Confirmed bone metastasis on pembrolizumab, no BMA: info card, no orders of its own."""
    metastasis, ici = bone_metastasis(), pembrolizumab()
    finding = ici_bone_metastasis(facts(conditions=[metastasis], medications=[ici]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert finding.suggestions == ()
    assert finding.values["ici"] == "pembrolizumab"
    assert {metastasis.reference, ici.reference} <= evidence_refs(finding)
    assert any("Int J Mol Sci 2022" in s for s in finding.outside_sources)


def test_bma_active_no_card():
    """On pembrolizumab and denosumab: bone-targeted therapy is already given."""
    patient = facts(conditions=[bone_metastasis()], medications=[pembrolizumab(), denosumab()])
    assert ici_bone_metastasis(patient, THRESHOLDS) is None


def test_bisphosphonate_counts_as_bma():
    """On nivolumab and zoledronic acid: no card."""
    nivolumab = medication("nivolumab", agent_class="ici")
    patient = facts(conditions=[bone_metastasis()], medications=[nivolumab, zoledronic_acid()])
    assert ici_bone_metastasis(patient, THRESHOLDS) is None


def test_stopped_ici_no_card():
    """Pembrolizumab stopped: not on immunotherapy now."""
    patient = facts(conditions=[bone_metastasis()], medications=[pembrolizumab(status="stopped")])
    assert ici_bone_metastasis(patient, THRESHOLDS) is None


def test_no_ici_no_card():
    """Confirmed bone metastasis, no immunotherapy: BMA-INITIATION speaks, not this card."""
    assert ici_bone_metastasis(facts(conditions=[bone_metastasis()]), THRESHOLDS) is None


def test_suspected_metastasis_only_no_card():
    """On pembrolizumab with bone metastasis only suspected: no card."""
    patient = facts(conditions=[bone_metastasis(verification="suspected")], medications=[pembrolizumab()])
    assert ici_bone_metastasis(patient, THRESHOLDS) is None


def test_hospice_care_no_card():
    """On pembrolizumab in hospice care: Table 1 advises no BMA, so no card suggests adding one."""
    hospice = event("hospice", days=3, status="in-progress", resource_type="Encounter")
    patient = facts(conditions=[bone_metastasis()], medications=[pembrolizumab()], events=[hospice])
    assert ici_bone_metastasis(patient, THRESHOLDS) is None


def test_terminal_illness_condition_no_card():
    """Documented terminal illness: no card."""
    terminal = condition("life_expectancy_limited", code="300936002")
    patient = facts(conditions=[bone_metastasis(), terminal], medications=[pembrolizumab()])
    assert ici_bone_metastasis(patient, THRESHOLDS) is None


def test_template_fits():
    """The ICI-BONE-METASTASIS template fits in 140 characters and fills from the finding."""
    finding = ici_bone_metastasis(
        facts(conditions=[bone_metastasis()], medications=[pembrolizumab()]), THRESHOLDS
    )
    assert_template_fits(RULE, [finding])


def test_card_from_fhir_chart():
    """From raw FHIR: bone metastasis and an active Keytruda order (RxNorm 1657746): an info card."""
    ici = fhir_medication_request(
        "pembro", "1657746", "pembrolizumab 200 mg", dose_mg=200, period=3, period_unit="wk", status="active"
    )
    card = patient_view_card(ici_bone_metastasis, fhir_chart(fhir_condition("met", "C79.51"), ici))
    assert card is not None
    assert card["source"]["topic"]["code"] == RULE and card["indicator"] == "info"
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert "not to be changed" in card["detail"] and "MedicationRequest/pembro" in card["detail"]
    assert "10.3390/ijms23126832" in card["detail"]


def _rendered_card():
    ici = fhir_medication_request(
        "nivo",
        "L01FF01",
        "nivolumab 240 mg",
        dose_mg=240,
        period=2,
        period_unit="wk",
        status="active",
        system="http://www.whocc.no/atc",
    )
    return patient_view_card(ici_bone_metastasis, fhir_chart(fhir_condition("met", "C79.51"), ici))


def test_wording_says_the_bma_is_indicated_whatever_the_ici_and_its_effect_on_icis_is_unproven():
    """RULES.md 7.2.18: indicated for the bone (6.3), bone metastasis means less ICI benefit (seed 002),
    BMA + ICI benefit still being studied (6.2.1)."""
    card = _rendered_card()
    text = f"{card['summary']} {card['detail']}".lower()
    assert "indicated for the confirmed bone metastasis whatever the immunotherapy" in text
    assert "less benefit from immune checkpoint inhibitors" in text
    assert "not known" in text and "still ongoing" in text


def test_wording_never_claims_the_bma_improves_ici_outcomes():
    """7.2.18: the card must not say a BMA improves ICI outcomes (the old text said "improve outcome")."""
    text = " ".join(_rendered_card()[key] for key in ("summary", "detail")).lower()
    for claim in (
        "improve outcome",
        "improves outcome",
        "improve patient outcome",
        "enhances the immunotherapy",
    ):
        assert claim not in text
