"""METASTASIS-CONFIRMATION (RULES.md 7.2.17; consensus 5.1.5 and 5.2): a suspected bone metastasis is
confirmed before it is treated. Consensus: "ECT is a primary screening examination, and ECT-positive sites
are further confirmed with X-ray, CT and/or MRI scan" (5.1.5); "a bone biopsy is required for ... patients
with orthopedic symptoms as the first manifestation of lung cancer ..., isolated bone destruction lesion
..., [when] the diagnosis of bone lesions has decisive influence on the therapeutic strategies" (5.2), and
"enhanced CT or MR scan should be performed before puncture biopsy" (5.2, precautions).

Inclusion: patient-view, lung cancer, a bone metastasis Condition that is suspected (provisional,
differential, unconfirmed) and none confirmed. Decision: info, with at most one suggestion:
- no CT, MRI or X-ray of the suspected site done since the suspicion: CT or MRI of that site (5.1.5);
- such imaging done and the metastasis still only suspected: a bone biopsy consultation (5.2).
Never a bone-modifying agent: treatment waits for the diagnosis (BMA-WITHOUT-CONFIRMED-METASTASIS).

Decision beyond the catalog:
- Imaging of the site counts when it is CT, MR, CR or DX, done, and dated on or after the suspected
  Condition; when the Condition names a body site (`bodySite`), the imaging must name the same region. A
  suspicion with no date keeps the imaging suggestion (nothing shows the imaging came after it).
- Imaging already done and still suspected is read as "imaging could not settle it": 5.2 then asks for a
  biopsy when the result decides treatment, which is the case for a bone-modifying agent. The card also
  names the other 5.2 indications (first sign of the cancer, isolated lesion), which no code shows.
- With documented life expectancy under 3 months or hospice, no biopsy is suggested: an invasive test that
  cannot change care at that point; the card says so and still offers imaging when none was done.
- PET-CT and bone scans do not confirm a suspicion here: they are the screening that raised it (5.1.4,
  5.1.5) and the catalog names X-ray, CT and MRI for confirmation.
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import ClinicalFacts, ConditionFact, ImagingFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    condition_evidence,
    done_imaging,
    has_confirmed_bone_metastasis,
    imaging_evidence,
    life_expectancy_limitations,
    suspected_bone_metastases,
)
from hooks.rules._why import CHART_REVIEW_ONLY
from hooks.why_not import not_fired

RULE_ID = "METASTASIS-CONFIRMATION"
SITE_MODALITIES = frozenset({"CT", "MR", "CR", "DX"})
"""Consensus 5.1.5: ECT-positive sites are confirmed with X-ray, CT and/or MRI."""
REASON = "Suspected bone metastasis to confirm before treatment (consensus 5.1.5, 5.2)"
SITE_IMAGING = SuggestionSpec(
    "CT or MRI of the suspected bone metastasis site",
    (ActionSpec("create", order_key="imaging_ct_mri_suspected_site", reason=REASON),),
    is_recommended=True,
)
BIOPSY = SuggestionSpec(
    "Bone biopsy consultation for the suspected bone metastasis",
    (ActionSpec("create", order_key="referral_bone_biopsy", reason=REASON),),
    is_recommended=True,
)


def is_included(facts: ClinicalFacts) -> bool:
    return (
        facts.hook == PATIENT_VIEW
        and bool(suspected_bone_metastases(facts))
        and not has_confirmed_bone_metastasis(facts)
    )


def covers(study: ImagingFact, suspicion: ConditionFact) -> bool:
    """Site imaging (X-ray, CT, MRI) done on or after the suspicion, of its site when it names one."""
    if not study.modalities & SITE_MODALITIES or study.day is None or suspicion.since is None:
        return False
    if study.day < suspicion.since:
        return False
    return not suspicion.regions or bool(suspicion.regions & study.regions)


def site_imaging(facts: ClinicalFacts, suspicions: tuple[ConditionFact, ...]) -> ImagingFact | None:
    """The newest study that examined every suspected site since it was suspected, if any."""
    studies = [s for s in done_imaging(facts) if all(covers(s, c) for c in suspicions)]
    return max(studies, key=lambda s: s.day or date.min, default=None)


@rule(RULE_ID, consensus_section="5.1.5, 5.2", needs=("ImagingStudy", "DiagnosticReport"))
def metastasis_confirmation(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """METASTASIS-CONFIRMATION (consensus 5.1.5, 5.2): confirm a suspected bone metastasis."""
    if not is_included(facts):
        return not_fired(lambda: _why_not(facts))
    suspicions = suspected_bone_metastases(facts)
    imaged = site_imaging(facts, suspicions)
    limited = life_expectancy_limitations(facts, t)
    evidence = tuple(condition_evidence("Suspected bone metastasis", c) for c in suspicions)
    if imaged is not None:
        evidence += (imaging_evidence("Imaging of the site since the suspicion", imaged),)
    evidence += limited
    variant, suggestions = _decision(imaged, bool(limited))
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        variant=variant,
        values={
            "sites": ", ".join(c.display for c in suspicions),
            "imaging": imaged.day.isoformat() if imaged and imaged.day else "none on record",
        },
        evidence=evidence,
        missing=tuple(f"date of the suspicion ({c.reference})" for c in suspicions if c.since is None),
        suggestions=suggestions,
        selection_behavior="at-most-one",
    )


def _decision(imaged: ImagingFact | None, limited: bool) -> tuple[str, tuple[SuggestionSpec, ...]]:
    if imaged is None:
        return "image-site", (SITE_IMAGING,)
    if limited:
        return "imaged-limited-life-expectancy", ()
    return "biopsy", (BIOPSY,)


def _why_not(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    confirmed = facts.conditions_in("bone_metastasis", "confirmed")
    if confirmed:
        return f"Bone metastasis is confirmed: {'; '.join(c.display for c in confirmed)}"
    return "No suspected bone metastasis on record"
