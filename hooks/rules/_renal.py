"""Kidney questions for the bone-modifying-agent rules: the zoledronic acid baseline and creatinine rise
(RULES.md 7.2.12), creatinine recency before a dose (7.3.24), and severe renal impairment (7.2.13).

Why a baseline: the zoledronic acid label sets a reduced dose from the creatinine clearance measured before
treatment, and during treatment watches the kidneys through the creatinine rise (withhold until creatinine
is back within 10% of baseline). Re-banding the dose on every new CrCl would hide a drug-induced decline
behind a quietly smaller dose, so the dose band comes from the baseline and the decline from the rise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fhir_mappings.creatinine_clearance import clearance_at
from fhir_mappings.facts import ClinicalFacts, CreatinineClearance, LabResult
from fhir_mappings.lab_series import on_or_before
from fhir_mappings.thresholds import Thresholds
from hooks.rules._course import current_course

ZA = "zoledronic_acid"


@dataclass(frozen=True)
class ZaBaseline:
    """`first_dose`: the first zoledronic acid dose of the current course (today for a first-dose draft).
    `creatinine`: the newest within the lookback before it, else the first one after it (`after_first_dose`),
    else None. `clearance`: Cockcroft-Gault at a pre-treatment baseline creatinine, else None."""

    first_dose: date
    creatinine: LabResult | None
    after_first_dose: bool
    clearance: CreatinineClearance | None


@dataclass(frozen=True)
class CreatinineRise:
    baseline: LabResult
    peak: LabResult
    current: LabResult
    rise: float
    limit: float


def za_first_dose(facts: ClinicalFacts, t: Thresholds) -> date:
    """First zoledronic acid dose of the current course; a draft outside such a course is a first dose."""
    course = current_course(facts, t)
    first = course.first_dose_of(ZA) if course is not None else None
    return first or facts.today


def za_baseline(facts: ClinicalFacts, t: Thresholds) -> ZaBaseline:
    first = za_first_dose(facts, t)
    results = facts.labs.get("creatinine", ())
    # Newest first: the first result dated on or before the first dose is the baseline candidate; newer
    # ones are passed over unread (`on_or_before`, two days late so a result's own time zone cannot hide it).
    late_bound = datetime.combine(first + timedelta(days=2), time(), UTC)
    before = next((r for r in on_or_before(results, late_bound) if r.day <= first), None)
    if before is not None and (first - before.day).days <= t["baseline_creatinine_lookback_days"]:
        return ZaBaseline(
            first, before, False, clearance_at(facts.patient, before, facts.labs, facts.today, t)
        )
    after = [r for r in results if r.day > first]
    return ZaBaseline(first, after[-1] if after else None, bool(after), None)


def creatinine_rise(facts: ClinicalFacts, base: ZaBaseline, t: Thresholds) -> CreatinineRise | None:
    """Label: a rise of 0.5 mg/dL (baseline < 1.4) or 1.0 mg/dL (baseline >= 1.4) means withhold, until
    creatinine is back within 10% of baseline. Walks back from the newest result: one within 10% of
    baseline means treatment may go on; one at or over the limit, with no recovery since, means withhold."""
    baseline = base.creatinine
    results = facts.labs.get("creatinine", ())
    if baseline is None or not results:
        return None
    normal = baseline.value < t["za_creatinine_normal_baseline_below_mg_dl"]
    limit = t[
        "za_creatinine_rise_normal_baseline_mg_dl" if normal else "za_creatinine_rise_abnormal_baseline_mg_dl"
    ]
    recovered = baseline.value * (1 + t["za_creatinine_recovery_fraction"])
    for result in results:
        if result.effective <= baseline.effective:
            return None
        if result.value <= recovered:
            return None
        if result.value - baseline.value >= limit:
            return CreatinineRise(baseline, result, results[0], results[0].value - baseline.value, limit)
    return None


def recent_creatinine(facts: ClinicalFacts, t: Thresholds) -> LabResult | None:
    """The newest creatinine when it is within `za_creatinine_before_dose_days` (7.3.24), else None."""
    newest = facts.latest("creatinine")
    if newest is None or (facts.today - newest.day).days > t["za_creatinine_before_dose_days"]:
        return None
    return newest
