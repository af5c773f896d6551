"""Clinical questions several rules ask, answered once so every rule asks them the same way.

Each function reads `ClinicalFacts` only. The catalog's terms (RULES.md section 2) are defined here:
"confirmed bone metastasis", "active BMA", "being started", "life expectancy under 3 months".
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from fhir_mappings.facts import (
    CalciumAssessment,
    CareEvent,
    ClinicalFacts,
    ConditionFact,
    Evidence,
    ImagingFact,
    LabResult,
    MedicationFact,
)
from fhir_mappings.thresholds import Thresholds
from fhir_mappings.units import value_with_unit

PATIENT_VIEW = "patient-view"


def confirmed_bone_metastases(facts: ClinicalFacts) -> tuple[ConditionFact, ...]:
    return facts.conditions_in("bone_metastasis", "confirmed")


def suspected_bone_metastases(facts: ClinicalFacts) -> tuple[ConditionFact, ...]:
    return facts.conditions_in("bone_metastasis", "suspected")


def has_confirmed_bone_metastasis(facts: ClinicalFacts) -> bool:
    return bool(confirmed_bone_metastases(facts))


def bma_regimen(order: MedicationFact) -> str:
    """RULES.md 7.1.5: a BMA order whose regimen was not classified is `unknown`, never osteoporosis."""
    return order.regimen or "unknown"


def is_oncology_like(order: MedicationFact) -> bool:
    """An oncology-regimen BMA, or one whose regimen could not be read (7.1.5: counted as oncology for
    duplication and safety checks; the card says the regimen could not be read)."""
    return order.agent_class == "bma" and bma_regimen(order) != "osteoporosis"


def is_osteoporosis_regimen(order: MedicationFact) -> bool:
    return order.agent_class == "bma" and bma_regimen(order) == "osteoporosis"


def active_bmas(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Active oncology or unknown-regimen BMAs: an osteoporosis regimen (Prolia, Reclast) does not treat
    bone metastasis, so it is not "an active BMA" for the catalog (7.1.5)."""
    return tuple(m for m in facts.medications if is_oncology_like(m) and m.is_active)


def active_osteoporosis_bmas(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    return tuple(m for m in facts.medications if is_osteoporosis_regimen(m) and m.is_active)


def is_checked(facts: ClinicalFacts, reference: str) -> bool:
    """7.3.20: order-select checks the drafts it names in `selections`; order-sign checks every draft."""
    return facts.checked_drafts is None or reference in facts.checked_drafts


def drafted_bmas(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Drafted BMAs under check (any regimen); other drafts are context (`all_drafted_bmas`)."""
    return tuple(m for m in facts.drafts if m.agent_class == "bma" and is_checked(facts, m.reference))


def all_drafted_bmas(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Every drafted BMA, checked or context: a duplicate needs both orders, whichever is selected."""
    return tuple(m for m in facts.drafts if m.agent_class == "bma")


def drafted_oncology_bmas(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    return tuple(m for m in drafted_bmas(facts) if is_oncology_like(m))


def unread_regimens(orders: tuple[MedicationFact, ...]) -> tuple[MedicationFact, ...]:
    """Orders whose regimen could not be read: every card relying on one says so (7.1.5)."""
    return tuple(m for m in orders if m.agent_class == "bma" and bma_regimen(m) == "unknown")


def regimen_note(orders: tuple[MedicationFact, ...]) -> str:
    """The sentence a card shows when it relies on an order of unknown regimen; empty otherwise."""
    unread = unread_regimens(orders)
    if not unread:
        return ""
    names = "; ".join(m.display for m in unread)
    return (
        f"The regimen of {names} could not be read from the order (no product code, dose or interval "
        "that tells oncology from osteoporosis): it is treated as the oncology regimen."
    )


def active_or_drafted(facts: ClinicalFacts, agent: str) -> tuple[MedicationFact, ...]:
    return tuple(
        m for m in (*facts.medications, *facts.drafts) if m.agent == agent and (m.is_active or m.is_draft)
    )


def life_expectancy_limitations(facts: ClinicalFacts, t: Thresholds) -> tuple[Evidence, ...]:
    """Documented life expectancy under 3 months, as long as the record still says so (RULES.md 7.1.7).

    - terminal illness (or another `life_expectancy_limited` Condition) while the Condition is active (the
      mapping keeps active Conditions only), and a hospice Condition likewise;
    - hospice care (`hospice_counts`): an Encounter or Procedure under way, or finished within
      `hospice_recent_days`; a hospice referral active, or completed within that window; an EpisodeOfCare
      active;
    - the life-expectancy assessment when the newest one says "under 3 months" and is no older than
      `life_expectancy_assessment_days` (a newer "no" supersedes it).

    It is never inferred (catalog section 2): when nothing says so, cards ask the clinician to confirm.
    `t` carries the site's windows and is required: a default here once made several rules ignore a
    site's override.
    """
    found: list[Evidence] = [
        Evidence("Documented limited life expectancy", c.display, c.since, c.reference)
        for c in (*facts.conditions_in("life_expectancy_limited"), *facts.conditions_in("hospice"))
    ]
    window = t["hospice_recent_days"]
    found += [
        Evidence("Hospice care", f"{e.resource_type} {e.status}", e.last_day, e.reference)
        for e in facts.events_of("hospice")
        if hospice_counts(facts, e, window)
    ]
    newest = facts.latest_coded("life_expectancy_under_3_months")
    age = days_since(facts, newest.effective.date()) if newest else None
    if newest is not None and newest.value == "true" and age is not None:
        if age <= t["life_expectancy_assessment_days"]:
            found.append(
                Evidence("Life expectancy under 3 months", "yes", newest.effective.date(), newest.reference)
            )
    return tuple(found)


def hospice_counts(facts: ClinicalFacts, event: CareEvent, window_days: float) -> bool:
    """RULES.md 7.1.7: whether a hospice record still means the patient is in hospice care today.

    A hospice stay from years ago says nothing about today; one finished within the window (or dated
    ahead) still does. An undated finished stay cannot be placed and does not count.
    """
    if event.is_draft:
        return False
    if event.resource_type == "EpisodeOfCare":
        return event.status == "active"
    if event.resource_type == "ServiceRequest" and event.state == "pending":
        return event.status == "active"
    if event.state == "ongoing":
        return True
    age = days_since(facts, event.last_day)
    return event.state == "done" and age is not None and age <= window_days


def bma_indicated(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Table 1: a BMA is indicated for confirmed bone metastasis, no BMA yet, life expectancy >= 3 months."""
    return (
        has_confirmed_bone_metastasis(facts)
        and not active_bmas(facts)
        and not life_expectancy_limitations(facts, t)
    )


def calcium_is_low(facts: ClinicalFacts) -> bool:
    return facts.calcium is not None and facts.calcium.status == "low"


def is_first_dose_ordered(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Order hooks, 7.3.21: an oncology (or unknown-regimen) BMA is drafted and no oncology course is
    active or stopped within `bma_course_gap_days` (`_course.py`: the same answer the duration and renal
    rules use). Switching agents after a longer gap is a first dose of the new agent.
    """
    from hooks.rules._course import stopped_within_gap_or_active  # _course imports this module

    if not drafted_oncology_bmas(facts):
        return False
    return not stopped_within_gap_or_active(facts, t)


def bma_being_started(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Catalog "being started": patient-view, BMA-INITIATION fires; order hooks, a first BMA dose is drafted.

    BMA-INITIATION fires when a BMA is indicated and calcium is not low (uncorrected hypocalcemia makes
    HYPOCALCEMIA-CORRECTION fire instead).
    """
    if facts.hook == PATIENT_VIEW:
        return bma_indicated(facts, t) and not calcium_is_low(facts)
    return is_first_dose_ordered(facts, t)


def bma_on_treatment_or_starting(facts: ClinicalFacts, t: Thresholds) -> bool:
    return bool(active_bmas(facts)) or bma_being_started(facts, t)


def last_given_day(facts: ClinicalFacts, order: MedicationFact) -> date | None:
    """The last day an order may have supplied a dose: today while it is active; else its stated end;
    else its start (or authored date), the last day the chart proves. Used for the ONJ windows (7.2.19)."""
    if order.is_active:
        return facts.today
    return order.end or order.start or order.authored


def hypercalcemia_treatment_drafted(facts: ClinicalFacts, t: Thresholds) -> bool:
    """7.3.23: corrected calcium at CTCAE grade >= `hcm_labelled_use_grade_from` and every drafted
    oncology BMA is a bisphosphonate labelled for hypercalcemia of malignancy (zoledronic acid,
    ibandronate, pamidronate): the draft treats the hypercalcemia, a labelled use.

    Only a graded calcium (corrected or ionized, `ctcae_hypercalcemia_grade`) counts: an uncorrected total
    calcium in the grade-2 range may be normal once corrected (high albumin), so it does not make the
    draft a hypercalcemia treatment."""
    drafts = drafted_oncology_bmas(facts)
    grade = ctcae_hypercalcemia_grade(facts.calcium)
    return (
        bool(drafts)
        and grade >= t["hcm_labelled_use_grade_from"]
        and all(m.agent in HCM_LABELLED_AGENTS for m in drafts)
    )


HCM_LABELLED_AGENTS = frozenset({"zoledronic_acid", "ibandronate", "pamidronate"})
"""Bisphosphonates whose labels include hypercalcemia of malignancy (RULES.md 7.3.23)."""


def days_since(facts: ClinicalFacts, day: date | None) -> int | None:
    return None if day is None else (facts.today - day).days


def is_recent(facts: ClinicalFacts, lab: LabResult | None, window_days: float) -> bool:
    return lab is not None and 0 <= (facts.today - lab.day).days <= window_days


def months_between(start: date, end: date) -> float:
    """Whole and partial months, using the mean Gregorian month (30.44 days)."""
    return (end - start).days / 30.436875


def lab_evidence(label: str, lab: LabResult) -> Evidence:
    """Show a lab as reported; mention the conversion when the canonical unit differs."""
    shown = value_with_unit(_fmt(lab.reported_value), lab.reported_unit)
    note = "" if lab.reported_unit == lab.unit else f"= {value_with_unit(_fmt(lab.value), lab.unit)}"
    return Evidence(label, shown, lab.day, lab.reference, note)


def medication_evidence(med: MedicationFact) -> Evidence:
    """One order as a clinician reads it: "Prolia 60 mg, every 6 months, osteoporosis regimen (active)".

    The drug is named by the chart's own wording (or the code set's drug name), never the internal agent
    key; the regimen is shown for every bone-modifying agent because RULES.md 7.1.5 makes it decide cards.
    """
    parts = [med.display]
    # What the drug's own wording already says ("Vitamin D3 400 IU daily") is not said twice.
    parts += [
        text
        for text in (_dose_text(med), interval_text(med.interval_days))
        if text and text.lower() not in med.display.lower()
    ]
    if med.regimen is not None:
        parts.append(REGIMEN_WORDS.get(med.regimen, REGIMEN_WORDS["unknown"]))
    label = "Drafted order" if med.is_draft else "Medication order"
    return Evidence(label, f"{', '.join(parts)} ({med.status})", med.start or med.authored, med.reference)


REGIMEN_WORDS = {
    "oncology": "oncology regimen",
    "osteoporosis": "osteoporosis regimen",
    "unknown": "regimen could not be read",
}

_DAYS_PER = (
    ("year", 365.25, "yearly"),
    ("month", 30.436875, "monthly"),
    ("week", 7.0, "weekly"),
    ("day", 1.0, "daily"),
)
"""UCUM lengths (a = 365.25 d, mo = a / 12), the ones `fhir_mappings.medications` converts periods with."""


def _dose_text(med: MedicationFact) -> str:
    if med.dose_mg is not None:
        return f"{_fmt(med.dose_mg)} mg"
    if med.dose_iu is not None:
        return f"{_fmt(med.dose_iu)} IU"
    return "dose not stated"


def interval_text(days: float | None) -> str:
    """An interval in days as written on an order: "daily", "every 4 weeks", "every 6 months", "yearly";
    "" when none was stated. Several doses a day read as "3 times a day"."""
    if days is None or days <= 0:
        return ""
    if days < 1:
        per_day = 1 / days
        return (
            f"{round(per_day)} times a day"
            if abs(per_day - round(per_day)) < 0.01
            else f"every {_fmt(days * 24)} hours"
        )
    for unit, length, once in _DAYS_PER:
        count = days / length
        if count >= 1 and abs(count - round(count)) * length < 0.01:
            return once if round(count) == 1 else f"every {round(count)} {unit}s"
    return f"every {_fmt(days)} days"


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f}".rstrip("0").rstrip(".")


# Helpers for the bone-modifying-agent rules (BMA-INITIATION ... HYPERCALCEMIA).

CALCIUM_ANALYTES = ("calcium_total", "calcium_corrected", "calcium_ionized")
"""Any of these counts as "a calcium result" (catalog section 2: total, corrected or ionized)."""

NEVER_GIVEN_STATUSES = frozenset({"draft", "cancelled", "entered-in-error"})
"""MedicationRequest statuses under which no dose can have been given (FHIR: cancelled = withdrawn before
any administration), so such orders do not start a treatment clock or a creatinine baseline."""


def is_order_hook(facts: ClinicalFacts) -> bool:
    return facts.hook != PATIENT_VIEW


def latest_of(facts: ClinicalFacts, analytes: tuple[str, ...]) -> LabResult | None:
    """Newest usable result among several analytes that answer the same question (total/ionized calcium)."""
    found = [lab for analyte in analytes if (lab := facts.latest(analyte)) is not None]
    return max(found, key=lambda lab: lab.effective, default=None)


def condition_evidence(label: str, condition: ConditionFact) -> Evidence:
    return Evidence(label, condition.display, condition.since, condition.reference)


def bma_history(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Every chart BMA order that may have been given, in any status (stopped and completed included)."""
    return tuple(
        m
        for m in facts.medications
        if m.agent_class == "bma" and not m.is_draft and m.status not in NEVER_GIVEN_STATUSES
    )


def earliest_start(meds: tuple[MedicationFact, ...]) -> date | None:
    """First known start (or authored date) among orders; None when no order carries a date."""
    days = [d for m in meds if (d := m.start or m.authored) is not None]
    return min(days, default=None)


def is_same_bma_regimen(first: MedicationFact, second: MedicationFact) -> bool:
    """Same agent and not one oncology and one osteoporosis regimen (Prolia and Xgeva differ).

    An unknown regimen is not taken as a difference: an order without a product code or a readable dose
    cannot be shown to be the other regimen.
    """
    if first.agent != second.agent:
        return False
    return not ({bma_regimen(first), bma_regimen(second)} >= {"oncology", "osteoporosis"})


def renews_osteoporosis(facts: ClinicalFacts, draft: MedicationFact) -> bool:
    """A draft whose regimen cannot be read, of the same agent as an active osteoporosis order (a denosumab
    order without product, dose or interval while on Prolia): read as that order's renewal, not as the
    start of the oncology regimen, so it never by itself makes a card stop the osteoporosis order."""
    return bma_regimen(draft) == "unknown" and any(
        a.agent == draft.agent for a in active_osteoporosis_bmas(facts)
    )


def drafts_duplicating_active(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Drafted BMAs that add a second treatment to an active oncology (or unknown-regimen) BMA
    (BMA-DUPLICATION's `with-active` case, 7.3.22): an oncology draft of another agent, or any
    osteoporosis-regimen draft (never denosumab 60 mg with 120 mg, nor a second antiresorptive).

    A draft of the same agent as the active order (a renewal) is not a duplicate. Every draft counts,
    checked or context: a duplicate needs both orders.
    """
    active = active_bmas(facts)
    return tuple(
        d
        for d in all_drafted_bmas(facts)
        if any(is_osteoporosis_regimen(d) or not is_same_bma_regimen(d, a) for a in active)
    )


def crcl_missing(facts: ClinicalFacts) -> tuple[str, ...]:
    """What Cockcroft-Gault lacked; never empty when CrCl has no value, so a card can always say why."""
    if facts.crcl is not None and facts.crcl.value_ml_min is not None:
        return ()
    if facts.crcl is not None and facts.crcl.missing:
        return facts.crcl.missing
    return ("creatinine clearance could not be computed",)


def calcium_basis_label(basis: str, albumin_pairing_days: float) -> str:
    """How the calcium value was obtained, for the card: uncorrected total calcium must be visible as such."""
    labels = {
        "ionized": "ionized calcium",
        "lab-corrected": "corrected calcium reported by the laboratory",
        "albumin-corrected": "total calcium corrected for albumin",
        "total-uncorrected": (
            "total calcium NOT corrected for albumin "
            f"(no albumin within {fmt_number(albumin_pairing_days)} days)"
        ),
    }
    return labels.get(basis, basis)


def fmt_number(value: float | None) -> str:
    """A number as a clinician writes it: 3.5, 4, 0.25 (no trailing zeros)."""
    return _fmt(value)


# Helpers for the referral rules (RADIOTHERAPY-REFERRAL, MDT-REFERRAL).

SRE_CONDITIONS = {
    "pathological_fracture": "pathological fracture",
    "spinal_cord_compression": "spinal cord compression",
}
SRE_EVENTS = {
    "radiotherapy": "radiotherapy",
    "bone_surgery": "surgery to bone",
    "spine_surgery": "surgery to bone",
}
PERFORMED_EVENT_TYPES = frozenset({"Procedure", "Encounter"})
"""A radiotherapy course or a bone operation counts as an SRE once performed (done or under way: a Procedure
or Encounter); a ServiceRequest is an order."""

ESCC_SCALE = ("0", "1a", "1b", "1c", "2", "3")
"""The epidural spinal cord compression (Bilsky) scale of consensus Fig. 3, lowest to highest: the same grades
as `escc_grades` in fhir_mappings/data/codesets.yaml, the only values the mapping accepts."""


class SkeletalEvent(NamedTuple):
    """One skeletal-related event: its catalog name and the datum that shows it."""

    name: str
    evidence: Evidence


def skeletal_related_events(facts: ClinicalFacts) -> tuple[SkeletalEvent, ...]:
    """Catalog SRE: pathological fracture or spinal cord compression (confirmed Conditions), radiotherapy or
    surgery to bone (performed: a Procedure or Encounter, not a ServiceRequest)."""
    conditions = [
        SkeletalEvent(name, condition_evidence(f"Skeletal-related event: {name}", c))
        for category, name in SRE_CONDITIONS.items()
        for c in facts.conditions_in(category, "confirmed")
    ]
    events = [
        SkeletalEvent(name, Evidence(f"Skeletal-related event: {name}", e.status, e.day, e.reference))
        for kind, name in SRE_EVENTS.items()
        for e in facts.events_of(kind)
        if e.resource_type in PERFORMED_EVENT_TYPES and e.state in ("done", "ongoing")
    ]
    return (*conditions, *events)


def escc_at_least(grade: str, minimum: str) -> bool:
    """Whether an ESCC grade is `minimum` or higher on the Fig. 3 scale; a grade not on the scale is not."""
    return grade in ESCC_SCALE and ESCC_SCALE.index(grade) >= ESCC_SCALE.index(minimum)


# Helpers for the bone-imaging rules (BONE-IMAGING-WORKUP, BASELINE-BONE-SCAN, BONE-SCAN-FOLLOWUP).

BONE_IMAGING_MODALITIES = frozenset({"NM", "PT", "MR", "CT", "CR", "DX"})
"""Catalog section 2, "Bone imaging": any of these modalities has looked at the skeleton."""
WHOLE_BODY_BONE_MODALITIES = frozenset({"NM", "PT"})
"""Catalog section 2: a bone scan is NM (ECT/SPECT); PT (PET-CT) counts as whole-body bone imaging too."""


def bone_imaging(facts: ClinicalFacts) -> tuple[ImagingFact, ...]:
    """Every bone-imaging study done (7.1.6), dated or not, in chart order."""
    return tuple(i for i in done_imaging(facts) if i.modalities & BONE_IMAGING_MODALITIES)


def whole_body_bone_scans(facts: ClinicalFacts) -> tuple[ImagingFact, ...]:
    """Dated bone scans or PET-CTs, newest first (an undated study cannot be placed in time: left out)."""
    scans = [
        i for i in done_imaging(facts) if i.modalities & WHOLE_BODY_BONE_MODALITIES and i.day is not None
    ]
    return tuple(sorted(scans, key=lambda i: i.day or date.min, reverse=True))


def imaging_evidence(label: str, study: ImagingFact) -> Evidence:
    modalities = "/".join(sorted(study.modalities))
    shown = f"{modalities} {study.description}".strip()
    return Evidence(label, shown, study.day, study.reference)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (the last day when that month is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return date(year, month, min(day.day, last))


# Done, pending, not done (RULES.md 7.1.6): every rule asking "was it done" or "was it asked for" asks here.


def done_events(facts: ClinicalFacts, kind: str) -> tuple[CareEvent, ...]:
    """Chart events of `kind` that record the care as given: a Procedure `completed`, an Encounter
    `finished`, a ServiceRequest `completed` (an EpisodeOfCare `finished`)."""
    return tuple(e for e in facts.events_of(kind) if e.state == "done")


def pending_events(facts: ClinicalFacts, kind: str) -> tuple[CareEvent, ...]:
    """Events of `kind` asked for and not yet done: a chart ServiceRequest `active`, `on-hold` or `draft`,
    and the same order drafted in this hook call."""
    drafted = tuple(e for e in facts.draft_events if e.kind == kind)
    return tuple(e for e in facts.events_of(kind) if e.state == "pending") + drafted


def ongoing_events(facts: ClinicalFacts, kind: str) -> tuple[CareEvent, ...]:
    """Events of `kind` under way: a Procedure or Encounter `in-progress` (a radiotherapy course being
    given), an EpisodeOfCare `active`."""
    return tuple(e for e in facts.events_of(kind) if e.state == "ongoing")


def done_or_under_way(facts: ClinicalFacts, kind: str) -> tuple[CareEvent, ...]:
    return done_events(facts, kind) + ongoing_events(facts, kind)


def asked_or_done(facts: ClinicalFacts, kind: str) -> tuple[CareEvent, ...]:
    """Everything that shows the care was asked for or given (done, under way, pending)."""
    return done_or_under_way(facts, kind) + pending_events(facts, kind)


def done_imaging(facts: ClinicalFacts) -> tuple[ImagingFact, ...]:
    """Imaging that exists (an ImagingStudy `available`, a final/preliminary report); booked studies
    (`registered`) are not imaging done."""
    return tuple(i for i in facts.imaging if i.state == "done")


def event_evidence(label: str, event: CareEvent) -> Evidence:
    shown = f"{event.resource_type} {event.status}" + (" (drafted now)" if event.is_draft else "")
    return Evidence(label, shown, event.day, event.reference)


def pending_imaging(
    facts: ClinicalFacts, kind: str, modalities: frozenset[str], region: str | None = None
) -> tuple[Evidence, ...]:
    """Imaging asked for and not yet done (7.1.6): an order of `kind` pending (chart or drafted now), or a
    study of one of `modalities` (in `region` when given) only booked (`registered`)."""
    orders = tuple(event_evidence("Already ordered", e) for e in pending_events(facts, kind))
    booked = tuple(
        imaging_evidence("Already booked", i)
        for i in facts.imaging
        if i.state == "pending" and i.modalities & modalities and (region is None or region in i.regions)
    )
    return orders + booked


# Calcium grade wording (R4; RULES.md 7 wording: an uncorrected total calcium is never labelled with a CTCAE
# grade it was not graded by).


def ctcae_hypercalcemia_grade(calcium: CalciumAssessment | None) -> int:
    """The CTCAE v5 hypercalcemia grade of a corrected or ionized calcium; 0 for an uncorrected total
    calcium (CTCAE grades corrected calcium) or when calcium is not high."""
    if calcium is None or not calcium.ctcae_graded:
        return 0
    return calcium.hypercalcemia_grade


def uncorrected_in_grade_range(calcium: CalciumAssessment | None, grade_from: float) -> bool:
    """An uncorrected total calcium whose value falls in the CTCAE grade `grade_from` range or above: not
    graded, but a card that relies on the grade says why it did not use it."""
    return calcium is not None and not calcium.ctcae_graded and calcium.hypercalcemia_grade >= grade_from


def hypercalcemia_grade_label(calcium: CalciumAssessment) -> str:
    """How a card names the grade: "CTCAE grade 3", or for an uncorrected total calcium "grade 3 range,
    not corrected for albumin (grade not assigned)"."""
    grade = max(calcium.hypercalcemia_grade, 1)
    if calcium.ctcae_graded:
        return f"CTCAE grade {grade}"
    return f"grade {grade} range, not corrected for albumin (grade not assigned)"
