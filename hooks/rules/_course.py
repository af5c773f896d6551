"""The current continuous course of oncology bone-modifying treatment (RULES.md 7.1.11, 7.3.21).

Why one definition: BMA-DURATION-REVIEW measures treatment from the course's first dose, ZA-RENAL-DOSING
takes its baseline creatinine and CrCl before it, and the order hooks call a draft a "first dose" when no
course is current. Asked three ways, the answers disagreed (an order stopped three years ago started a
duration clock; a restart after a long gap was not a first dose).

A course is a chain of oncology-regimen BMA orders of any agent (a switch from zoledronic acid to
denosumab continues one treatment) in which each order starts at most `bma_course_gap_days` after the
previous orders ended. The course is current while one of its orders is active, or until
`bma_course_gap_days` after its last order ended ("stopped within 90 days").

Which orders count: chart orders under which a dose may have been given (`bma_history`: no drafts, nothing
cancelled or entered in error) whose regimen is oncology or unknown. An unknown regimen counts as oncology
(7.1.5: for safety), and so does a BMA order whose regimen was not filled in at all. An osteoporosis
regimen (Prolia, Reclast) is a different treatment and never part of the course.

When an order ended: its stated end (`MedicationFact.end`, from boundsPeriod/validityPeriod) when the
chart gives one; an active or on-hold order has not ended (today). Otherwise (stopped, completed, no end
date) one dosing interval after its start, when the next dose would have been due; the order's start
when the interval is unknown too. This errs towards a shorter course: a restart then reads as a first
dose, which asks for the pre-treatment checks again rather than skipping them.

An order with no date at all cannot be placed in time: an active one still makes a course current (a BMA
is being given now), with its first dose unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.rules._shared import bma_history

ONCOLOGY_REGIMENS = frozenset({"oncology", "unknown", None})
GAP_THRESHOLD = "bma_course_gap_days"


@dataclass(frozen=True)
class Course:
    """One continuous course, oldest order first.

    `first_dose` is None when no order of the course carries a date. `ended` is None while an order is
    active (the course goes on today).
    """

    orders: tuple[MedicationFact, ...]
    first_dose: date | None
    ended: date | None

    @property
    def is_active(self) -> bool:
        return self.ended is None

    def first_dose_of(self, agent: str) -> date | None:
        """The first dated order of one agent within this course (the zoledronic acid baseline)."""
        return min((d for m in self.orders if m.agent == agent and (d := order_start(m))), default=None)


def is_oncology_order(order: MedicationFact) -> bool:
    return order.agent_class == "bma" and order.regimen in ONCOLOGY_REGIMENS


def course_orders(facts: ClinicalFacts) -> tuple[MedicationFact, ...]:
    """Chart orders that may have been given under an oncology (or unknown) regimen."""
    return tuple(m for m in bma_history(facts) if is_oncology_order(m))


def order_start(order: MedicationFact) -> date | None:
    return order.start or order.authored


def order_end(order: MedicationFact, today: date) -> date | None:
    """When an order stopped supplying doses; None while it is active (see the module docstring)."""
    if order.is_active:
        return None
    if order.end is not None:
        return order.end
    start = order_start(order)
    if start is None:
        return None
    interval = order.interval_days or 0
    return min(start + timedelta(days=interval), today)


def current_course(facts: ClinicalFacts, t: Thresholds) -> Course | None:
    """The course going on now or stopped within the gap; None when there is none (a draft starts one)."""
    gap = timedelta(days=t[GAP_THRESHOLD])
    orders = course_orders(facts)
    chain = _newest_chain([m for m in orders if order_start(m) is not None], facts.today, gap)
    undated_active = tuple(m for m in orders if order_start(m) is None and m.is_active)
    if not chain and not undated_active:
        return None
    active = bool(undated_active) or any(m.is_active for m in chain)
    ended = None if active else max(_end_key(m, facts.today) for m in chain)
    if ended is not None and facts.today - ended > gap:
        return None
    return Course((*chain, *undated_active), order_start(chain[0]) if chain else None, ended)


def first_dose(facts: ClinicalFacts, t: Thresholds) -> date | None:
    """The first dose of the current course; None when no course is current or its start is undated."""
    course = current_course(facts, t)
    return course.first_dose if course else None


def stopped_within_gap_or_active(facts: ClinicalFacts, t: Thresholds) -> bool:
    """7.3.21: a drafted BMA is not a first dose while a course is active or stopped within the gap."""
    return current_course(facts, t) is not None


def _newest_chain(dated: list[MedicationFact], today: date, gap: timedelta) -> list[MedicationFact]:
    """The last group of orders, oldest first, merged while each starts within the gap of the group's end.

    Sorted by start with a running end, the last group is the newest: an earlier group ended more than the
    gap before the last group began, or the two would have merged.
    """
    groups: list[list[MedicationFact]] = []
    running_end = date.min
    for order in sorted(dated, key=_start_key):
        start = _start_key(order)
        if not groups or start - running_end > gap:
            groups.append([])
            running_end = date.min
        groups[-1].append(order)
        running_end = max(running_end, _end_key(order, today))
    return groups[-1] if groups else []


def _start_key(order: MedicationFact) -> date:
    return order_start(order) or date.min


def _end_key(order: MedicationFact, today: date) -> date:
    return order_end(order, today) or today
