"""BONE-IMAGING-WORKUP (consensus section 5, Fig. 2): "Once patients with confirmed lung cancer develop
clinical manifestations (such as bone pain, pathological fracture, elevated alkaline phosphatase [ALP],
continuously elevated levels of tumor biomarkers without lesion progression, spinal cord or nerve
compression, or hypercalcemia), further imaging examinations, such as X-ray, computed tomography (CT),
magnetic resonance imaging (MRI), etc., should be performed on the painful site, symptomatic site, and
spinal cord compression site." Fig. 2: "PET-CT is not recommended as a routine test due to its high cost."

Inclusion: patient-view, lung cancer, no confirmed bone metastasis, and a clinical feature: bone pain (a
Condition coded as bone pain, SNOMED 12584003, or a site code; RULES.md 7.2.16: a pain score alone is not a
work-up feature), ALP above the upper limit (the Observation's referenceRange high, else the sex-specific
default), hypercalcemia (calcium assessment high, or a hypercalcemia Condition), pathological fracture,
spinal cord or nerve root compression (Conditions; nerve compression is ICD-10 G55*).
Exclusion (7.2.16): every feature is answered by imaging done (7.1.6) on or after it that can answer it: a
bone scan (NM) or PET-CT (PT); or MR / CT / CR / DX whose body site matches the feature's site (the spine
for cord or nerve compression; the Condition's `bodySite` for bone pain and fracture). A feature with no
site (ALP, hypercalcemia, a pain Condition without `bodySite`) is answered only by whole-body imaging: NM,
PT, or a whole-body MR. Decision: warning; critical with cord compression. Suggestions: whole-body bone
scan; MRI of the spine for cord compression; X-ray/CT of the site for bone pain, fracture or nerve
compression. PET-CT is never suggested.

Decision beyond the catalog:
- With cord compression the spine MRI is listed first: it is the urgent test (5.1.3 MRI shows cord
  compression); the bone scan follows. Otherwise the bone scan (ECT) comes first.
- A feature with no date cannot be shown to precede the imaging: it keeps the card open and the card says
  its date is missing.
- Suspected (provisional) fracture or cord compression Conditions count as features: they are the reason
  to image.
- "Continuously elevated tumour markers" has no code set and does not trigger (5.3: markers other than
  ALP are exploratory). Nerve compression is a warning feature with the site X-ray/CT; only cord
  compression makes the card critical and adds the spine MRI.
- Regions are coarse (spine, pelvis and hip, femur, chest, humerus, skull): a hip X-ray answers hip pain,
  a chest CT does not. Combined regions (chest-abdomen-pelvis) are not mapped, so such a CT does not close
  a hip-pain work-up: the bone scan the consensus names first is still asked for.
- No ALP result is listed as missing data when the card fires; it never fires on a missing ALP alone.
- An imaging order already pending (7.1.6: a ServiceRequest active, on-hold or draft, or drafted now) or a
  study only booked is not suggested again; the card still fires until imaging is done, and shows it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import NamedTuple

from fhir_mappings.facts import ClinicalFacts, Evidence, ImagingFact, LabResult
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    WHOLE_BODY_BONE_MODALITIES,
    bone_imaging,
    condition_evidence,
    fmt_number,
    has_confirmed_bone_metastasis,
    imaging_evidence,
    lab_evidence,
    pending_imaging,
)
from hooks.rules._why import CHART_REVIEW_ONLY
from hooks.why_not import not_fired

RULE_ID = "BONE-IMAGING-WORKUP"
ALP_DEFAULTS = {"male": "alp_upper_male_u_l", "female": "alp_upper_female_u_l"}
SITE_FEATURES = ("bone pain", "pathological fracture", "nerve compression")
CORD = "spinal cord compression"
CONDITION_FEATURES = {
    "pathological_fracture": "pathological fracture",
    "spinal_cord_compression": CORD,
    "nerve_compression": "nerve compression",
}
REASON = "Clinical feature of bone metastasis in lung cancer (consensus section 5, Fig. 2)"
SPINE = frozenset({"spine"})
SPINAL_CATEGORIES = frozenset({"spinal_cord_compression", "nerve_compression"})
WHOLE_BODY = "whole_body"
SITE_MODALITIES = frozenset({"MR", "CT", "CR", "DX"})
"""7.2.16: these answer a feature only at the feature's site."""


class Feature(NamedTuple):
    """One clinical feature of bone metastasis (Fig. 2 footnote) with the datum that shows it and the body
    regions imaging must show to answer it (empty: only whole-body imaging answers it)."""

    name: str
    day: date | None
    evidence: Evidence
    regions: frozenset[str] = frozenset()


def _order(label: str, key: str) -> SuggestionSpec:
    return SuggestionSpec(label, (ActionSpec("create", order_key=key, reason=REASON),))


BONE_SCAN = _order("Whole-body bone scan (ECT)", "imaging_bone_scan_whole_body")
SPINE_MRI = _order("Urgent MRI of the whole spine (cord compression)", "imaging_mri_spine")
SITE_IMAGING = _order("X-ray or CT of the painful or symptomatic site", "imaging_xray_ct_site")


def alp_upper_limit(facts: ClinicalFacts, alp: LabResult, t: Thresholds) -> tuple[float, str]:
    """The Observation's referenceRange high, else the catalog default for the patient's sex."""
    if alp.high is not None:
        return alp.high, "reference range"
    name = ALP_DEFAULTS.get(facts.patient.sex or "", "alp_upper_unknown_u_l")
    return t[name], t.entry(name).source


def alp_feature(facts: ClinicalFacts, t: Thresholds) -> Feature | None:
    alp = facts.latest("alp")
    if alp is None:
        return None
    limit, source = alp_upper_limit(facts, alp, t)
    if alp.value <= limit:
        return None
    shown = replace(
        lab_evidence("ALP above the upper limit", alp),
        note=f"upper limit {fmt_number(limit)} U/L, {'default' if alp.high is None else 'laboratory'} range",
    )
    return Feature("elevated ALP", alp.day, shown)


def pain_features(facts: ClinicalFacts) -> list[Feature]:
    """Bone pain Conditions, with their `bodySite` regions (7.2.16: a pain score alone is not a feature)."""
    return [
        Feature("bone pain", c.since, condition_evidence("Bone pain", c), c.regions)
        for c in facts.conditions_in("bone_pain")
    ]


def calcium_features(facts: ClinicalFacts) -> list[Feature]:
    found = [
        Feature("hypercalcemia", c.since, condition_evidence("Hypercalcemia", c))
        for c in facts.conditions_in("hypercalcemia")
    ]
    ca = facts.calcium
    if ca is not None and ca.status == "high":
        shown = f"{fmt_number(ca.value)} {ca.unit} (upper limit {fmt_number(ca.high_limit)})"
        ref = next((e.reference for e in ca.evidence), None)
        found.append(
            Feature("hypercalcemia", ca.day, Evidence("Calcium above the upper limit", shown, ca.day, ref))
        )
    return found


def clinical_features(facts: ClinicalFacts, t: Thresholds) -> tuple[Feature, ...]:
    """Every feature of Fig. 2's footnote the chart shows."""
    conditions = [
        Feature(name, c.since, condition_evidence(name.capitalize(), c), _site(category, c.regions))
        for category, name in CONDITION_FEATURES.items()
        for c in facts.conditions_in(category)
    ]
    alp = alp_feature(facts, t)
    return (*pain_features(facts), *([alp] if alp else []), *calcium_features(facts), *conditions)


def _site(category: str, regions: frozenset[str]) -> frozenset[str]:
    """Cord and nerve root compression are at the spine whatever the Condition says; others at their site."""
    return SPINE if category in SPINAL_CATEGORIES else regions


def newest_bone_imaging(facts: ClinicalFacts) -> ImagingFact | None:
    dated = [i for i in bone_imaging(facts) if i.day is not None]
    return max(dated, key=lambda i: i.day or date.min, default=None)


def answers(study: ImagingFact, feature: Feature) -> bool:
    """7.2.16: whether a done study can answer the feature's question (its date is checked by the caller)."""
    if study.modalities & WHOLE_BODY_BONE_MODALITIES:
        return True
    if "MR" in study.modalities and WHOLE_BODY in study.regions:
        return True
    return bool(study.modalities & SITE_MODALITIES and feature.regions & study.regions)


def answered_by(facts: ClinicalFacts, feature: Feature) -> ImagingFact | None:
    if feature.day is None:
        return None
    return next(
        (
            i
            for i in bone_imaging(facts)
            if i.day is not None and i.day >= feature.day and answers(i, feature)
        ),
        None,
    )


def open_features(facts: ClinicalFacts, t: Thresholds) -> tuple[Feature, ...]:
    """Features no suitable imaging answered on or after them (undated ones stay open)."""
    return tuple(f for f in clinical_features(facts, t) if answered_by(facts, f) is None)


def is_included(facts: ClinicalFacts) -> bool:
    return facts.hook == PATIENT_VIEW and not has_confirmed_bone_metastasis(facts)


def on_its_way(facts: ClinicalFacts) -> dict[str, tuple[Evidence, ...]]:
    """Per suggestion, the orders pending or studies booked that already ask for it (7.1.6)."""
    return {
        BONE_SCAN.label: pending_imaging(facts, "bone_scan", WHOLE_BODY_BONE_MODALITIES),
        SPINE_MRI.label: pending_imaging(facts, "spine_mri", frozenset({"MR"}), "spine"),
        SITE_IMAGING.label: pending_imaging(facts, "site_imaging", frozenset()),
    }


def suggestions_for(names: set[str], pending: dict[str, tuple[Evidence, ...]]) -> tuple[SuggestionSpec, ...]:
    site = (SITE_IMAGING,) if names & set(SITE_FEATURES) else ()
    ordered = (SPINE_MRI, BONE_SCAN, *site) if CORD in names else (BONE_SCAN, *site)
    return tuple(s for s in ordered if not pending.get(s.label))


@rule(
    RULE_ID,
    consensus_section="5, Fig. 2",
    needs=("Observation", "ImagingStudy", "DiagnosticReport", "ServiceRequest", "Procedure"),
)
def bone_imaging_workup(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BONE-IMAGING-WORKUP (consensus section 5, Fig. 2): image a clinical feature of bone metastasis."""
    if not is_included(facts):
        return not_fired(lambda: _not_included(facts))
    features = open_features(facts, t)
    if not features:
        return not_fired(lambda: _all_answered(facts, t))
    names = {f.name for f in features}
    last = newest_bone_imaging(facts)
    pending = on_its_way(facts)
    evidence = tuple(f.evidence for f in features) + tuple(e for found in pending.values() for e in found)
    if last is not None:
        evidence += (imaging_evidence("Last bone imaging (does not answer the feature)", last),)
    return Finding(
        rule_id=RULE_ID,
        indicator="critical" if CORD in names else "warning",
        variant="cord-compression" if CORD in names else "default",
        values={
            "features": ", ".join(sorted(names)),
            "sites": _sites(features),
            "last_imaging": last.day.isoformat() if last and last.day else "none on record",
        },
        evidence=evidence,
        missing=_missing(facts, features),
        suggestions=suggestions_for(names, pending),
        selection_behavior="any",
        outside_sources=_outside_sources(facts, t),
    )


def _missing(facts: ClinicalFacts, features: tuple[Feature, ...]) -> tuple[str, ...]:
    undated = tuple(f"date of {f.name} ({f.evidence.reference})" for f in features if f.day is None)
    alp = () if facts.latest("alp") else ("alkaline phosphatase (LOINC 6768-6): no result on record",)
    return undated + alp


def _outside_sources(facts: ClinicalFacts, t: Thresholds) -> tuple[str, ...]:
    alp = facts.latest("alp")
    if alp is None or alp.high is not None:
        return ()
    limit, source = alp_upper_limit(facts, alp, t)
    return (f"ALP upper limit {fmt_number(limit)} U/L: {source}",)


def _sites(features: tuple[Feature, ...]) -> str:
    regions = sorted({r.replace("_", " and ") for f in features for r in f.regions})
    return ", ".join(regions) if regions else "no site recorded"


def _not_included(facts: ClinicalFacts) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    return "Bone metastasis is already confirmed: the work-up of a clinical feature does not apply"


def _all_answered(facts: ClinicalFacts, t: Thresholds) -> str:
    features = clinical_features(facts, t)
    if not features:
        return (
            "No clinical feature of bone metastasis on record (bone pain, ALP above the upper limit, "
            "hypercalcemia, pathological fracture, cord or nerve compression)"
        )
    answered = []
    for feature in features:
        study = answered_by(facts, feature)
        if study is not None and feature.day is not None and study.day is not None:
            shown = f"{'/'.join(sorted(study.modalities))} on {study.day.isoformat()}"
            answered.append(f"{feature.name} ({feature.day.isoformat()}) by {shown}")
    return "Every clinical feature was imaged since it was found: " + "; ".join(answered)
