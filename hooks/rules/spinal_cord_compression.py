"""SPINAL-CORD-COMPRESSION (consensus 6.6.2, Fig. 3): "The commonly used scoring systems are the Mirels
score to assess fracture risk (Table 3) and the Epidural Spinal Cord Compression (ESCC) scale to evaluate
spinal cord compression (Fig. 3)". Fig. 3: "Grade 1c, deformation of the thecal sac with spinal cord
abutment, but without cord compression. Grade 2, spinal cord compression, but with CSF visible around the
cord. Grade 3, spinal cord compression, no CSF visible around the cord". 6.6.3 lists "Patients with or at
high risk of spinal instability, spinal cord compression" among the surgical indications.

Inclusion: patient-view, and a spinal cord compression Condition (ICD-10 G95.2*) or a newest ESCC grade of
1c or higher. Decision: critical for the Condition or ESCC 2-3 (`compression`), warning for ESCC 1c
(`abutment`); ESCC 0-1b gives no card. Suggestions: urgent MRI of the spine when no spine MR is dated
within `mri_spine_recent_days`; spine surgery and urgent radiotherapy consults.

Decision beyond the catalog:
- A suspected (provisional) cord compression Condition counts like a confirmed one: it is an emergency
  until imaging rules it out.
- An MR study counts as a spine MRI only when its body site or procedure code maps to the spine; an MR of
  unknown region does not, and one dated in the future (booked) is not a done MRI.
- A consult already ordered or done on or after the evidence date (any status the mapping keeps) is shown
  and not suggested again; the card still fires, since the compression itself is the alert.
- Grade 1c gets the same suggestions as a warning: the cord is abutted and the specialist decides.
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import CareEvent, ClinicalFacts, CodedResult, Evidence, ImagingFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    condition_evidence,
    days_since,
    escc_at_least,
    fmt_number,
    imaging_evidence,
)

RULE_ID = "SPINAL-CORD-COMPRESSION"
ESCC_CRITICAL_FROM = "2"
ESCC_WARNING_FROM = "1c"
REASON = "Spinal cord compression or ESCC grade {} (consensus 6.6.2, Fig. 3)"
CONSULTS = (
    ("spine_surgery_consult", "referral_spine_surgery", "Urgent spine surgery consultation"),
    ("radiotherapy_consult", "referral_radiotherapy_urgent", "Urgent radiotherapy consultation"),
)


def compression_conditions(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    return tuple(
        condition_evidence("Spinal cord compression", c)
        for c in facts.conditions_in("spinal_cord_compression")
    )


def escc_grade(facts: ClinicalFacts) -> CodedResult | None:
    """The newest ESCC grade (Fig. 3 scale) on record."""
    return facts.latest_coded("escc_grade")


def variant_for(facts: ClinicalFacts) -> str | None:
    """Inclusion and decision: `compression` (G95.2 or ESCC 2-3), `abutment` (ESCC 1c), else None."""
    if facts.hook != PATIENT_VIEW:
        return None
    grade = escc_grade(facts)
    if compression_conditions(facts) or (grade and escc_at_least(grade.value, ESCC_CRITICAL_FROM)):
        return "compression"
    return "abutment" if grade and escc_at_least(grade.value, ESCC_WARNING_FROM) else None


def recent_spine_mri(facts: ClinicalFacts, t: Thresholds) -> ImagingFact | None:
    """Exclusion for the MRI suggestion: a spine MR done within `mri_spine_recent_days`."""
    window = t["mri_spine_recent_days"]
    return next(
        (
            i
            for i in facts.imaging
            if "MR" in i.modalities
            and "spine" in i.regions
            and (days := days_since(facts, i.day)) is not None
            and 0 <= days <= window
        ),
        None,
    )


def evidence_day(facts: ClinicalFacts) -> date | None:
    """The earliest date of the compression evidence, from which consults count as already asked."""
    days = [c.since for c in facts.conditions_in("spinal_cord_compression") if c.since]
    grade = escc_grade(facts)
    days += [grade.effective.date()] if grade else []
    return min(days, default=None)


def existing_consults(facts: ClinicalFacts, kind: str) -> tuple[CareEvent, ...]:
    start = evidence_day(facts)
    return tuple(e for e in facts.events_of(kind) if e.day is not None and (start is None or e.day >= start))


def suggestions(facts: ClinicalFacts, t: Thresholds, grade_label: str) -> tuple[SuggestionSpec, ...]:
    reason = REASON.format(grade_label)
    specs = []
    if recent_spine_mri(facts, t) is None:
        specs.append(
            SuggestionSpec(
                "Urgent MRI of the whole spine",
                (ActionSpec("create", order_key="imaging_mri_spine", reason=reason),),
            )
        )
    for kind, key, label in CONSULTS:
        if not existing_consults(facts, kind):
            specs.append(SuggestionSpec(label, (ActionSpec("create", order_key=key, reason=reason),)))
    return tuple(specs)


@rule(
    RULE_ID,
    consensus_section="6.6.2, Fig. 3",
    needs=("Observation", "ImagingStudy", "DiagnosticReport", "ServiceRequest", "Procedure"),
)
def spinal_cord_compression(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """SPINAL-CORD-COMPRESSION (consensus 6.6.2, Fig. 3): cord compression or ESCC >= 1c needs action now."""
    variant = variant_for(facts)
    if variant is None:
        return None
    grade = escc_grade(facts)
    grade_label = grade.value if grade else "not recorded"
    return Finding(
        rule_id=RULE_ID,
        indicator="critical" if variant == "compression" else "warning",
        variant=variant,
        values={
            "escc": grade_label,
            "basis": "spinal cord compression on record" if compression_conditions(facts) else "ESCC grade",
            "mri_days": fmt_number(t["mri_spine_recent_days"]),
        },
        evidence=_evidence(facts, t, grade),
        suggestions=suggestions(facts, t, grade_label),
        selection_behavior="any",
        outside_sources=(
            f"spine MRI considered recent within {fmt_number(t['mri_spine_recent_days'])} days: "
            f"{t.entry('mri_spine_recent_days').source}",
        ),
    )


def _evidence(facts: ClinicalFacts, t: Thresholds, grade: CodedResult | None) -> tuple[Evidence, ...]:
    found = list(compression_conditions(facts))
    if grade is not None:
        found.append(Evidence("ESCC grade (Fig. 3)", grade.value, grade.effective.date(), grade.reference))
    if (mri := recent_spine_mri(facts, t)) is not None:
        found.append(imaging_evidence("Recent MRI of the spine", mri))
    found += [
        Evidence(f"Consult already on record: {kind.replace('_', ' ')}", e.status, e.day, e.reference)
        for kind, _, _ in CONSULTS
        for e in existing_consults(facts, kind)
    ]
    return tuple(found)
