"""Clinical facts: what the rules may know about a patient, with no FHIR left in it.

`fhir_mappings` is the only package that reads raw FHIR. It turns one hook call's resources into a
`ClinicalFacts` once; the rules in `hooks/rules/` read only these dataclasses. Every fact carries the
reference of the resource it came from, so a card can show its evidence, and every numeric value is
already in the analyte's canonical unit (see `fhir_mappings/data/units.yaml`), with the value and unit as
reported kept beside it for display.

Missing data is never filled in: a fact that could not be established is `None` or an empty tuple, and the
reason goes into `data_issues` so a card can say what was missing or unusable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Sex = Literal["male", "female"]
Verification = Literal["confirmed", "suspected"]
Regimen = Literal["oncology", "osteoporosis", "unknown"]
EventState = Literal["done", "pending", "ongoing", "unknown"]
"""RULES.md 7.1.6: what a care event's (or imaging study's) resource status says about the care."""


@dataclass(frozen=True)
class Evidence:
    """One datum a card shows: what it is, its value with unit, when, and which resource said so."""

    label: str
    value: str
    when: date | None
    reference: str | None
    note: str = ""
    calculated_from: tuple[str, ...] = ()
    """References of the results this value was calculated from (CrCl: its creatinine and weight; corrected
    calcium: its albumin), so a card can name them on the calculated row instead of repeating them."""


@dataclass(frozen=True)
class PatientFact:
    reference: str
    age_years: int | None
    sex: Sex | None


@dataclass(frozen=True)
class ConditionFact:
    """An active (or relapsed/recurrent) Condition that matched one of our condition code sets.

    `category` is the code-set name (`lung_cancer`, `bone_metastasis`, `spinal_cord_compression`,
    `pathological_fracture`, `bone_pain`, `life_expectancy_limited`, `hypercalcemia`, ...).
    """

    category: str
    verification: Verification
    onset: date | None
    recorded: date | None
    reference: str
    code: str
    display: str
    regions: frozenset[str] = frozenset()
    """Body-region code-set names (`imaging.regions` in codesets.yaml) its `bodySite` maps to, e.g. `spine`,
    `pelvis_hip`; empty when the Condition names no site we know (RULES.md 7.2.16)."""
    history: bool = False
    """RULES.md 7.1.1: a lung cancer that counts only because an active bone metastasis is on the chart: the
    Condition is resolved, in remission or inactive, or is a personal-history code (Z85.11*, Z85.1). Cards
    that show it say so; it is never an active primary by itself."""

    @property
    def since(self) -> date | None:
        """When the condition became known: onset if given, else the date it was recorded."""
        return self.onset or self.recorded


@dataclass(frozen=True)
class LabResult:
    """A final/amended/corrected numeric Observation, normalised to the analyte's canonical unit.

    `low` and `high` are the reference range in the canonical unit when the Observation carried one,
    otherwise None (the rule then uses the catalog default and says so).
    """

    analyte: str
    value: float
    unit: str
    reported_value: float
    reported_unit: str
    effective: datetime
    reference: str
    code: str
    low: float | None = None
    high: float | None = None

    @property
    def day(self) -> date:
        return self.effective.date()


@dataclass(frozen=True)
class CodedResult:
    """An Observation whose value is a grade or category rather than a quantity (ESCC grade)."""

    analyte: str
    value: str
    effective: datetime
    reference: str
    code: str


@dataclass(frozen=True)
class UnusableResult:
    """An Observation that matched an analyte but could not be used: unknown unit, no value, bad date."""

    analyte: str
    reason: str
    reference: str
    reported: str


@dataclass(frozen=True)
class MedicationFact:
    """A MedicationRequest for a drug the rules care about, active or drafted.

    `agent` is the code-set name (`denosumab`, `zoledronic_acid`, `ibandronate`, `incadronate`,
    `pamidronate`, `alendronate`, `risedronate`, `calcium_supplement`, `vitamin_d`, `ici`); `agent_class` is
    `bma`, `supplement` or `ici`. `product` is the product whose code the order carries (`xgeva`, `prolia`,
    `zometa`, `reclast`, `boniva`; codesets.yaml `products`); a denosumab order without one is named `xgeva`
    (120 mg) or `prolia` (60 mg) by its dose. Dose and interval are None when the order does not state them
    in a unit we can read. `display` is the drug as the chart names it, never the code-set key.
    """

    agent: str
    agent_class: str
    product: str | None
    status: str
    intent: str
    authored: date | None
    start: date | None
    dose_mg: float | None
    interval_days: float | None
    reference: str
    display: str
    is_draft: bool = False
    regimen: Regimen | None = None
    """BMA orders only (RULES.md 7.1.5): `oncology`, `osteoporosis` or `unknown` (no product code, dose or
    interval decides it; counted as oncology for duplication and safety checks). None for other agents."""
    end: date | None = None
    """When the order stopped supplying doses, when the chart says (dosage boundsPeriod.end or
    dispenseRequest.validityPeriod.end); None when not stated (`hooks/rules/_course.py` then estimates)."""
    family: str | None = None
    """BMAs only: `bisphosphonate` (zoledronic acid, ibandronate, incadronate, pamidronate, alendronate,
    risedronate) or `denosumab`; None for other agents (RULES.md 7.3.19 reads bisphosphonates together)."""
    dose_iu: float | None = None
    """A dose stated in international units (vitamin D), which `dose_mg` cannot hold."""

    @property
    def is_active(self) -> bool:
        return (
            (not self.is_draft) and self.status in ("active", "on-hold") and self.intent in ("order", "plan")
        )


@dataclass(frozen=True)
class ImagingFact:
    """An ImagingStudy, or a DiagnosticReport with an imaging category, with its DICOM modalities."""

    modalities: frozenset[str]
    day: date | None
    reference: str
    description: str = ""
    regions: frozenset[str] = frozenset()
    """Body-region code-set names matched by the study's body sites or procedure codes (e.g. `spine`);
    empty when the study does not say."""
    state: EventState = "done"
    """RULES.md 7.1.6: `done` for an ImagingStudy `available` (or a final/amended/corrected/appended/
    preliminary imaging report); `pending` for a study only `registered`; `unknown` otherwise. Only a done
    study answers a clinical question."""


EVENT_STATES: Mapping[str, Mapping[str, EventState]] = {
    "Procedure": {"completed": "done", "in-progress": "ongoing", "preparation": "pending"},
    "Encounter": {"finished": "done", "in-progress": "ongoing", "arrived": "ongoing", "triaged": "ongoing"},
    "ServiceRequest": {"completed": "done", "active": "pending", "on-hold": "pending", "draft": "pending"},
    "EpisodeOfCare": {"finished": "done", "active": "ongoing", "onhold": "ongoing"},
}
"""RULES.md 7.1.6 done / pending: a Procedure `completed`, an Encounter `finished`, a ServiceRequest
`completed` is done; a ServiceRequest `active`, `on-hold` or `draft` is pending. A Procedure or Encounter
under way is `ongoing` (a radiotherapy course being given, a hospice stay). Any other status (cancelled,
entered-in-error, revoked, not-done, planned, unknown) records no care: `unknown`."""


def event_state(resource_type: str, status: str, *, is_draft: bool = False) -> EventState:
    """The state a resource's status gives (a drafted order is pending whatever it says)."""
    if is_draft:
        return "pending"
    return EVENT_STATES.get(resource_type, {}).get(status, "unknown")


@dataclass(frozen=True)
class CareEvent:
    """A Procedure, Encounter, ServiceRequest or EpisodeOfCare that matched a care-event code set.

    `kind` is the code-set name: `dental_exam`, `stomatology_referral`, `radiotherapy`,
    `radiotherapy_consult`, `bone_surgery`, `spine_surgery`, `mdt_review`, `hospice`, `invasive_dental`,
    `spine_surgery_consult`, `orthopedic_oncology_consult`, `spine_mri`.
    `status` is the resource's own status; `day` its performed/occurrence/authored date (the start of a
    period); `end` the end of its period when stated (a finished hospice stay); `state` what the status
    means (`EVENT_STATES`), computed from the status when not given.
    """

    kind: str
    status: str
    day: date | None
    reference: str
    resource_type: str
    is_draft: bool = False
    state: EventState | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.state is None:
            object.__setattr__(
                self, "state", event_state(self.resource_type, self.status, is_draft=self.is_draft)
            )

    @property
    def last_day(self) -> date | None:
        """The latest date the event is known to cover: its end, else its start."""
        return self.end or self.day


@dataclass(frozen=True)
class CalciumAssessment:
    """The patient's current calcium status, computed once by `fhir_mappings.calcium`.

    `basis` says which value was used: `ionized`, `lab-corrected`, `albumin-corrected` or
    `total-uncorrected` (no albumin within the pairing window; the card must say so).
    `value` and `unit` are in the unit system the laboratory reported (mg/dL or mmol/L), because
    CTCAE grades are defined separately in each; `value_mg_dl` is the same value in mg/dL for
    comparisons that do not depend on the reporting system (None for ionized calcium).
    `status` is `low`, `normal` or `high` against `low_limit`/`high_limit` (same unit as `value`).
    """

    basis: str
    value: float
    unit: str
    value_mg_dl: float | None
    low_limit: float
    high_limit: float
    limits_source: str
    status: Literal["low", "normal", "high"]
    hypercalcemia_grade: int
    hypocalcemia_critical: bool
    day: date
    evidence: tuple[Evidence, ...]
    hypocalcemia_grade: int = 0
    """CTCAE v5 hypocalcemia grade of `value` (0 when not low), in the same unit system."""

    @property
    def ctcae_graded(self) -> bool:
        """CTCAE grades corrected or ionized calcium: an uncorrected total calcium has no CTCAE grade, and a
        card must not label it with one (`hypercalcemia_grade` then only says where the value falls)."""
        return self.basis != "total-uncorrected"


@dataclass(frozen=True)
class UnmappedEntry:
    """A Condition or MedicationRequest whose codes no code set recognises but whose text or a coding's
    display names something the rules read (RULES.md 7.1.4). It is shown to health IT on a data card and
    never decides a clinical card: text is not a diagnosis or an order."""

    concept: str
    """What the text names: `lung_cancer`, `bone_metastasis`, `bma` or `ici`."""
    reference: str
    codes: str
    """The codings as sent (`system|code`), or `no coding`."""
    text: str
    """The text or display that named it (shortened)."""
    is_draft: bool = False
    """A draft order of this hook call (order-select, order-sign), not a chart resource."""


@dataclass(frozen=True)
class CreatinineClearance:
    """Cockcroft-Gault with actual body weight, or the list of what is missing to compute it."""

    value_ml_min: float | None
    missing: tuple[str, ...]
    evidence: tuple[Evidence, ...]


Labs = Mapping[str, Sequence[LabResult]]


@dataclass(frozen=True)
class ClinicalFacts:
    """Everything the rules know about one patient at one hook call."""

    hook: str
    now: datetime
    patient: PatientFact
    conditions: tuple[ConditionFact, ...] = ()
    labs: Labs = field(default_factory=dict)
    """Per analyte, usable results newest first (a `LabSeries` when built from FHIR: converted as read)."""
    coded_results: dict[str, tuple[CodedResult, ...]] = field(default_factory=dict)
    medications: tuple[MedicationFact, ...] = ()
    imaging: tuple[ImagingFact, ...] = ()
    care_events: tuple[CareEvent, ...] = ()
    calcium: CalciumAssessment | None = None
    crcl: CreatinineClearance | None = None
    drafts: tuple[MedicationFact, ...] = ()
    draft_events: tuple[CareEvent, ...] = ()
    data_issues: tuple[UnusableResult, ...] = ()
    unmapped: tuple[UnmappedEntry, ...] = ()
    """RULES.md 7.1.4: resources named in text only; they feed the UNMAPPED-CODES data card, nothing else."""
    checked_drafts: frozenset[str] | None = None
    """RULES.md 7.3.20: references of the draft orders a rule checks (order-select's `selections`); the
    other drafts are context only. None: every draft is checked (order-sign)."""

    @property
    def today(self) -> date:
        return self.now.date()

    def conditions_in(
        self, category: str, verification: Verification | None = None
    ) -> tuple[ConditionFact, ...]:
        return tuple(
            c
            for c in self.conditions
            if c.category == category and (verification is None or c.verification == verification)
        )

    def latest(self, analyte: str) -> LabResult | None:
        """Newest usable result for an analyte (labs are stored newest first)."""
        results = self.labs.get(analyte, ())
        return results[0] if results else None

    def latest_coded(self, analyte: str) -> CodedResult | None:
        results = self.coded_results.get(analyte, ())
        return results[0] if results else None

    def events_of(self, kind: str) -> tuple[CareEvent, ...]:
        return tuple(e for e in self.care_events if e.kind == kind)

    def issues_for(self, analyte: str) -> tuple[UnusableResult, ...]:
        return tuple(i for i in self.data_issues if i.analyte == analyte)
