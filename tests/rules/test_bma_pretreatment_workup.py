"""BMA-PRETREATMENT-WORKUP (consensus Table 1 instructions): labs and bone imaging before a first BMA dose."""

from __future__ import annotations

import pytest

from hooks.rules.bma_pretreatment_workup import bma_pretreatment_workup
from tests.rules.bma_card_checks import assert_template_fits, evidence_refs, order_keys
from tests.rules.factories import THRESHOLDS, bone_metastasis, calcium, denosumab, facts, imaging, lab

RULE = "BMA-PRETREATMENT-WORKUP"


def complete_workup(**overrides):
    """Recent calcium, creatinine, ALP and NTX, and a bone scan: everything Table 1 asks for."""
    results = {
        "calcium": lab("calcium_total", 9.3, days=5),
        "creatinine": lab("creatinine", 0.9, days=5),
        "alp": lab("alp", 110, days=5),
        "ntx": lab("ntx_urine", 40, days=5),
    }
    results.update(overrides)
    return [r for r in results.values() if r is not None]


def starting(labs=(), studies=(), **kw):
    """A patient with confirmed bone metastasis about to start a BMA (BMA-INITIATION fires)."""
    kw.setdefault("conditions", [bone_metastasis()])
    return facts(labs=labs, imaging_studies=studies, calcium_status=calcium(9.3), **kw)


def test_nothing_done_fires_with_every_order():
    """Starting a BMA with no labs and no bone imaging: order calcium, creatinine, ALP, bone scan, NTX."""
    metastasis = bone_metastasis()
    finding = bma_pretreatment_workup(starting(conditions=[metastasis]), THRESHOLDS)
    assert finding is not None
    assert (finding.rule_id, finding.indicator, finding.variant) == (RULE, "info", "default")
    assert finding.values["missing_items"] == "calcium, creatinine, ALP, bone imaging"
    assert order_keys(finding) == [
        ["lab_calcium", "lab_albumin"],
        ["lab_creatinine"],
        ["lab_alp"],
        ["imaging_bone_scan_whole_body"],
        ["lab_ntx_urine"],
    ]
    assert finding.selection_behavior == "any"
    assert len(finding.missing) == 4
    assert metastasis.reference in evidence_refs(finding)


def test_complete_workup_no_card():
    """Recent calcium, creatinine, ALP, NTX and a bone scan: nothing is missing."""
    assert bma_pretreatment_workup(starting(complete_workup(), [imaging("NM")]), THRESHOLDS) is None


def test_only_ntx_missing_no_card():
    """Everything but NTX is on file: NTX alone never triggers the card."""
    patient = starting(complete_workup(ntx=None), [imaging("NM")])
    assert bma_pretreatment_workup(patient, THRESHOLDS) is None


def test_stale_creatinine_fires_for_creatinine_only():
    """Creatinine last measured 45 days ago: only creatinine is ordered (NTX is on file)."""
    old = lab("creatinine", 0.9, days=45)
    finding = bma_pretreatment_workup(starting(complete_workup(creatinine=old), [imaging("PT")]), THRESHOLDS)
    assert finding.values["missing_items"] == "creatinine"
    assert order_keys(finding) == [["lab_creatinine"]]
    (shown,) = [e for e in finding.evidence if e.reference == old.reference]
    assert "older than 30 days" in shown.note


def test_ionized_calcium_counts_as_calcium():
    """An ionized calcium from last week is a calcium result."""
    labs = complete_workup(calcium=lab("calcium_ionized", 1.2, days=7))
    assert bma_pretreatment_workup(starting(labs, [imaging("MR")]), THRESHOLDS) is None


def test_no_bone_imaging_fires_for_a_bone_scan():
    """All labs recent, but only an abdominal ultrasound on file: order a whole-body bone scan."""
    finding = bma_pretreatment_workup(starting(complete_workup(), [imaging("US")]), THRESHOLDS)
    assert finding.values["missing_items"] == "bone imaging"
    assert order_keys(finding) == [["imaging_bone_scan_whole_body"]]


def test_old_bone_imaging_still_counts():
    """A bone scan two years ago satisfies "bone imaging exists"."""
    assert bma_pretreatment_workup(starting(complete_workup(), [imaging("NM", days=730)]), THRESHOLDS) is None


def test_on_treatment_no_card():
    """A patient already on denosumab is not starting: the work-up card does not apply."""
    patient = facts(conditions=[bone_metastasis()], medications=[denosumab()])
    assert bma_pretreatment_workup(patient, THRESHOLDS) is None


def test_suspected_metastasis_no_card():
    """Suspected bone metastasis: no BMA is being started, so no work-up card."""
    assert (
        bma_pretreatment_workup(starting(conditions=[bone_metastasis(verification="suspected")]), THRESHOLDS)
        is None
    )


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_first_dose_drafted_fires(hook):
    """Denosumab drafted as a first dose without an ALP: order the ALP."""
    draft = denosumab(draft=True, days=0)
    patient = facts(
        hook=hook, drafts=[draft], labs=complete_workup(alp=None), imaging_studies=[imaging("CT")]
    )
    finding = bma_pretreatment_workup(patient, THRESHOLDS)
    assert finding.values["missing_items"] == "ALP"
    assert order_keys(finding) == [["lab_alp"]]
    assert draft.reference in evidence_refs(finding)


def test_repeat_dose_drafted_no_card():
    """A repeat dose drafted while on denosumab is not a first dose."""
    patient = facts(hook="order-sign", medications=[denosumab()], drafts=[denosumab(draft=True, days=0)])
    assert bma_pretreatment_workup(patient, THRESHOLDS) is None


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_first_dose_drafted_without_calcium_is_a_warning(hook):
    """Denosumab first dose drafted; newest calcium 45 days old: warning (exclude hypocalcemia first)."""
    draft = denosumab(draft=True, days=0)
    labs = complete_workup(calcium=lab("calcium_total", 9.3, days=45))
    patient = facts(hook=hook, drafts=[draft], labs=labs, imaging_studies=[imaging("NM")])
    finding = bma_pretreatment_workup(patient, THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("warning", "no-calcium-first-dose")
    assert order_keys(finding) == [["lab_calcium", "lab_albumin"]]


def test_first_dose_drafted_with_recent_calcium_stays_info():
    """The same draft with calcium 10 days ago but no ALP: info, as before."""
    draft = denosumab(draft=True, days=0)
    patient = facts(
        hook="order-sign", drafts=[draft], labs=complete_workup(alp=None), imaging_studies=[imaging("NM")]
    )
    assert bma_pretreatment_workup(patient, THRESHOLDS).indicator == "info"


def test_patient_view_without_calcium_stays_info():
    """Patient-view (BMA-INITIATION fires) with no calcium: info; the warning is for a drafted first dose."""
    finding = bma_pretreatment_workup(starting(labs=complete_workup(calcium=None)), THRESHOLDS)
    assert (finding.indicator, finding.variant) == ("info", "default")


def test_template_fits_every_variant():
    """The BMA-PRETREATMENT-WORKUP template fits 140 characters with everything missing."""
    drafted = facts(hook="order-sign", drafts=[denosumab(draft=True, days=0)])
    assert_template_fits(
        RULE, [bma_pretreatment_workup(starting(), THRESHOLDS), bma_pretreatment_workup(drafted, THRESHOLDS)]
    )
