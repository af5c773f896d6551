"""SPINAL-CORD-COMPRESSION (consensus 6.6.2, Fig. 3): "The commonly used scoring systems are the Mirels
score to assess fracture risk (Table 3) and the Epidural Spinal Cord Compression (ESCC) scale to evaluate
spinal cord compression (Fig. 3)". Fig. 3: "Grade 1c, deformation of the thecal sac with spinal cord
abutment, but without cord compression. Grade 2, spinal cord compression, but with CSF visible around the
cord. Grade 3, spinal cord compression, no CSF visible around the cord". 6.6.3 lists "Patients with or at
high risk of spinal instability, spinal cord compression" among the surgical indications.

Inclusion (RULES.md 7.2.15): patient-view, and a spinal cord compression Condition (ICD-10 G95.2*) recorded
within `scc_recent_days`, or a newest ESCC grade of 1c or higher recorded within that window. Exclusion: a
completed radiotherapy course or spine surgery (7.1.6: a Procedure `completed`, an Encounter `finished`)
dated on or after the newest compression evidence. Decision: critical for the Condition or ESCC 2-3
(`compression`), warning for ESCC 1c (`abutment`); ESCC 0-1b gives no card. Suggestions, each only when
not already done or pending: urgent MRI of the spine (none done within `mri_spine_recent_days`, none
booked or ordered); spine surgery and radiotherapy consults (none asked for or done since the evidence).
Every order has priority `stat`. Behind `scc_corticosteroid_note` (default on) the card names
corticosteroids as part of the local compression protocol, citing NICE NG234 (2023) as an outside source;
it never orders them.

Decision beyond the catalog:
- A suspected (provisional) cord compression Condition counts like a confirmed one: it is an emergency
  until imaging rules it out.
- A compression Condition with no onset or recorded date cannot be placed in the window: it still fires
  (an emergency is not silenced for want of a date) and the card says the date is missing.
- The 30-day window applies to ESCC 1c too: an abutment scored long ago is not today's emergency.
- An MR study counts as a spine MRI only when its body site or procedure code maps to the spine; an MR of
  unknown region does not, and one dated in the future or only `registered` (booked) is not a done MRI,
  but it is pending, so no second MRI is suggested.
- A radiotherapy course under way (in-progress) after the evidence does not close the card (the catalog
  says completed) but counts as the radiotherapy consult already done; so does a radiotherapy
  ServiceRequest (pending or completed): an order is not a record of the course given.
- Grade 1c gets the same suggestions as a warning: the cord is abutted and the specialist decides.
- Corticosteroids are named by default (the clinical call of this project): the consensus is silent on
  them, NICE NG234 recommends dexamethasone for people with neurological symptoms or signs of MSCC, and
  the card only points to the local protocol; a site that does not want it sets the flag to 0.
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import CareEvent, ClinicalFacts, CodedResult, ConditionFact, Evidence, ImagingFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    asked_or_done,
    condition_evidence,
    days_since,
    done_events,
    done_imaging,
    done_or_under_way,
    escc_at_least,
    event_evidence,
    fmt_number,
    imaging_evidence,
    pending_events,
)
from hooks.rules._why import CHART_REVIEW_ONLY, event_text
from hooks.why_not import not_fired

RULE_ID = "SPINAL-CORD-COMPRESSION"
ESCC_CRITICAL_FROM = "2"
ESCC_WARNING_FROM = "1c"
REASON = "Spinal cord compression or ESCC grade {} (consensus 6.6.2, Fig. 3)"
CONSULTS = (
    (("spine_surgery_consult",), "referral_spine_surgery", "Urgent spine surgery consultation"),
    (
        ("radiotherapy_consult", "radiotherapy"),
        "referral_radiotherapy_urgent",
        "Urgent radiotherapy consultation",
    ),
)
TREATMENTS = ("radiotherapy", "spine_surgery", "bone_surgery")
NICE_NG234 = (
    "corticosteroids: NICE guideline NG234 (2023), Spinal metastases and metastatic spinal cord "
    "compression (dexamethasone for people with neurological symptoms or signs of MSCC); not in the consensus"
)
STEROID_NOTE = (
    "Corticosteroids: follow the local protocol (NICE NG234: dexamethasone if neurological symptoms or "
    "signs); not ordered here."
)


def recent_compressions(facts: ClinicalFacts, t: Thresholds) -> tuple[ConditionFact, ...]:
    """Cord compression Conditions recorded within the window (undated ones included: see the docstring)."""
    window = t["scc_recent_days"]
    return tuple(
        c
        for c in facts.conditions_in("spinal_cord_compression")
        if (days := days_since(facts, c.since)) is None or days <= window
    )


def recent_escc(facts: ClinicalFacts, t: Thresholds) -> CodedResult | None:
    """The newest ESCC grade (Fig. 3 scale) when it was recorded within the window."""
    grade = facts.latest_coded("escc_grade")
    if grade is None or (days_since(facts, grade.effective.date()) or 0) > t["scc_recent_days"]:
        return None
    return grade


def severity(facts: ClinicalFacts, t: Thresholds) -> str | None:
    """`compression` (G95.2 or ESCC 2-3), `abutment` (ESCC 1c), else None."""
    grade = recent_escc(facts, t)
    if recent_compressions(facts, t) or (grade and escc_at_least(grade.value, ESCC_CRITICAL_FROM)):
        return "compression"
    return "abutment" if grade and escc_at_least(grade.value, ESCC_WARNING_FROM) else None


def evidence_days(facts: ClinicalFacts, t: Thresholds) -> list[date]:
    days = [d for c in recent_compressions(facts, t) if (d := c.since) is not None]
    grade = recent_escc(facts, t)
    return days + ([grade.effective.date()] if grade else [])


def treated_after(facts: ClinicalFacts, t: Thresholds) -> tuple[CareEvent, ...]:
    """Exclusion: a completed radiotherapy course or spine surgery dated on or after the newest evidence."""
    days = evidence_days(facts, t)
    if not days:
        return ()
    newest = max(days)
    return tuple(
        e
        for kind in TREATMENTS
        for e in done_events(facts, kind)
        if e.resource_type in ("Procedure", "Encounter") and e.last_day is not None and e.last_day >= newest
    )


def variant_for(facts: ClinicalFacts, t: Thresholds) -> str | None:
    """Inclusion, exclusion and decision together (other rules ask whether this card fires)."""
    if facts.hook != PATIENT_VIEW:
        return None
    found = severity(facts, t)
    return None if found is None or treated_after(facts, t) else found


def recent_spine_mri(facts: ClinicalFacts, t: Thresholds) -> ImagingFact | None:
    """A spine MR done within `mri_spine_recent_days` (7.1.6: an ImagingStudy `available`)."""
    window = t["mri_spine_recent_days"]
    return next(
        (
            i
            for i in done_imaging(facts)
            if "MR" in i.modalities
            and "spine" in i.regions
            and (days := days_since(facts, i.day)) is not None
            and 0 <= days <= window
        ),
        None,
    )


def mri_on_the_way(facts: ClinicalFacts, t: Thresholds) -> tuple[Evidence, ...]:
    """A spine MRI done recently, ordered (pending), or booked (a study only `registered`)."""
    window = t["mri_spine_recent_days"]
    found = [event_evidence("Spine MRI already ordered", e) for e in pending_events(facts, "spine_mri")]
    found += [
        event_evidence("Spine MRI already done", e)
        for e in done_events(facts, "spine_mri")
        if (days := days_since(facts, e.day)) is not None and 0 <= days <= window
    ]
    found += [
        imaging_evidence("Spine MRI booked", i)
        for i in facts.imaging
        if i.state == "pending" and "MR" in i.modalities and "spine" in i.regions
    ]
    if (mri := recent_spine_mri(facts, t)) is not None:
        found.append(imaging_evidence("Recent MRI of the spine", mri))
    return tuple(found)


def existing_consults(facts: ClinicalFacts, t: Thresholds, kinds: tuple[str, ...]) -> tuple[CareEvent, ...]:
    """Consults asked for or done (and, for radiotherapy, a course given or under way) since the evidence."""
    days = evidence_days(facts, t)
    start = min(days) if days else None
    events = [e for kind in kinds for e in (*asked_or_done(facts, kind), *done_or_under_way(facts, kind))]
    unique = {e.reference: e for e in events}.values()
    return tuple(e for e in unique if e.last_day is not None and (start is None or e.last_day >= start))


def suggestions(facts: ClinicalFacts, t: Thresholds, grade_label: str) -> tuple[SuggestionSpec, ...]:
    reason = REASON.format(grade_label)
    specs = []
    if not mri_on_the_way(facts, t):
        specs.append(
            SuggestionSpec(
                "Urgent MRI of the whole spine",
                (ActionSpec("create", order_key="imaging_mri_spine", reason=reason),),
            )
        )
    for kinds, key, label in CONSULTS:
        if not existing_consults(facts, t, kinds):
            specs.append(SuggestionSpec(label, (ActionSpec("create", order_key=key, reason=reason),)))
    return tuple(specs)


@rule(
    RULE_ID,
    consensus_section="6.6.2, Fig. 3",
    needs=("Observation", "ImagingStudy", "DiagnosticReport", "ServiceRequest", "Procedure"),
)
def spinal_cord_compression(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """SPINAL-CORD-COMPRESSION (consensus 6.6.2, Fig. 3): cord compression or ESCC >= 1c needs action now."""
    variant = variant_for(facts, t)
    if variant is None:
        return not_fired(lambda: _why_not(facts, t))
    grade = recent_escc(facts, t)
    grade_label = grade.value if grade else "not recorded"
    steroids = bool(t["scc_corticosteroid_note"])
    return Finding(
        rule_id=RULE_ID,
        indicator="critical" if variant == "compression" else "warning",
        variant=variant,
        values={
            "escc": grade_label,
            "basis": "spinal cord compression on record" if recent_compressions(facts, t) else "ESCC grade",
            "mri_days": fmt_number(t["mri_spine_recent_days"]),
            "window_days": fmt_number(t["scc_recent_days"]),
            "steroid_note": STEROID_NOTE if steroids else "",
        },
        evidence=_evidence(facts, t, grade),
        missing=tuple(
            f"date the spinal cord compression was found ({c.reference})"
            for c in recent_compressions(facts, t)
            if c.since is None
        ),
        suggestions=suggestions(facts, t, grade_label),
        selection_behavior="any",
        outside_sources=_outside_sources(t, steroids),
    )


def _outside_sources(t: Thresholds, steroids: bool) -> tuple[str, ...]:
    found = tuple(
        f"{label} {fmt_number(t[name])} days: {t.entry(name).source}"
        for name, label in (
            ("mri_spine_recent_days", "spine MRI considered recent within"),
            ("scc_recent_days", "compression evidence considered current within"),
        )
    )
    return found + ((NICE_NG234,) if steroids else ())


def _evidence(facts: ClinicalFacts, t: Thresholds, grade: CodedResult | None) -> tuple[Evidence, ...]:
    found = [condition_evidence("Spinal cord compression", c) for c in recent_compressions(facts, t)]
    if grade is not None:
        found.append(Evidence("ESCC grade (Fig. 3)", grade.value, grade.effective.date(), grade.reference))
    found += mri_on_the_way(facts, t)
    found += [
        event_evidence(f"Already on record: {e.kind.replace('_', ' ')}", e)
        for kinds, _, _ in CONSULTS
        for e in existing_consults(facts, t, kinds)
    ]
    return tuple(found)


def _why_not(facts: ClinicalFacts, t: Thresholds) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if severity(facts, t) is not None:
        newest = max(evidence_days(facts, t)).isoformat()
        treated = event_text(treated_after(facts, t)[0])
        return f"Compression already treated: {treated}, after the evidence of {newest}"
    window = fmt_number(t["scc_recent_days"])
    said = []
    old = [c for c in facts.conditions_in("spinal_cord_compression") if c.since is not None]
    if old:
        newest_old = max(c.since for c in old if c.since is not None).isoformat()
        said.append(f"spinal cord compression recorded on {newest_old}, more than {window} days ago")
    grade = facts.latest_coded("escc_grade")
    if grade is not None:
        day = grade.effective.date().isoformat()
        if recent_escc(facts, t) is None:
            said.append(f"newest ESCC grade {grade.value} on {day}, more than {window} days ago")
        else:
            said.append(f"newest ESCC grade {grade.value} on {day}, below {ESCC_WARNING_FROM}")
    if not said:
        return "No spinal cord compression or ESCC grade on record"
    return "No current cord compression: " + "; ".join(said)
