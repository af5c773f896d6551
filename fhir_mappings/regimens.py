"""Which regimen a bone-modifying-agent order is: oncology, osteoporosis, or not readable (RULES.md 7.1.5).

The same drug is given for bone metastasis and for osteoporosis at different doses and intervals
(denosumab 120 mg every 4 weeks vs 60 mg every 6 months; zoledronic acid 4 mg every 3-4 weeks vs 5 mg
yearly). Treating a Prolia patient as "on a BMA" hid the oncology indication, so every BMA order is
classified. The catalog's order of evidence is kept: a product code decides first (a Prolia code is the
osteoporosis product whatever dose was typed), then the stated dose, then the interval. An order none of
them decides is `unknown`; rules count it as oncology for safety and say the regimen could not be read.

The bands are threshold names (fhir_mappings/data/thresholds.yaml, each with its label source), so a
site changes a number there and never here.

Decisions beyond the catalog:
- A dose that matches neither regimen (denosumab 90 mg, zoledronic acid 2 mg) decides nothing; the interval
  then decides, and without one the regimen is unknown (counted as oncology by the rules, and said).
- Zoledronic acid every 3 months with no dose stated (91 days) is past the catalog's "up to 12 weeks" and
  reads as unknown, i.e. treated as oncology and flagged, rather than guessed as either regimen.
- Ibandronate by interval alone: up to 28 days is the 3-4-weekly oncology schedule, 30 days or more is the
  monthly tablet or 3-monthly injection (osteoporosis); 29 days decides nothing.
- Pamidronate is an oncology regimen at 90 mg (Aredia, catalog); other doses fall to the interval.
- A clinical-drug code of one strength is a product code here (zoledronic acid 4 mg/5 mL is the oncology
  product, 5 mg/100 mL the osteoporosis one), because the strength is what tells the regimens apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir_mappings.facts import Regimen
from fhir_mappings.thresholds import Thresholds


@dataclass(frozen=True)
class Band:
    """An inclusive range of threshold names; None is open on that side."""

    low: str | None
    high: str | None

    def holds(self, value: float, t: Thresholds, tolerance: float = 0.0) -> bool:
        above = self.low is None or value >= t[self.low] - tolerance
        below = self.high is None or value <= t[self.high] + tolerance
        return above and below


def exactly(name: str) -> Band:
    return Band(name, name)


@dataclass(frozen=True)
class AgentBands:
    oncology_doses: tuple[Band, ...] = ()
    osteoporosis_doses: tuple[Band, ...] = ()
    oncology_interval: Band | None = None
    osteoporosis_interval: Band | None = None


BANDS: dict[str, AgentBands] = {
    "denosumab": AgentBands(
        oncology_doses=(exactly("denosumab_oncology_dose_mg"),),
        osteoporosis_doses=(exactly("denosumab_osteoporosis_dose_mg"),),
        oncology_interval=Band(None, "oncology_interval_max_days"),
        osteoporosis_interval=Band("denosumab_osteoporosis_interval_days", None),
    ),
    "zoledronic_acid": AgentBands(
        oncology_doses=(Band("za_oncology_dose_min_mg", "za_oncology_dose_max_mg"),),
        osteoporosis_doses=(exactly("za_osteoporosis_dose_mg"),),
        oncology_interval=Band(None, "za_oncology_interval_max_days"),
        osteoporosis_interval=Band("za_osteoporosis_interval_min_days", None),
    ),
    "ibandronate": AgentBands(
        oncology_doses=(exactly("ibandronate_oncology_dose_mg"),),
        osteoporosis_doses=(
            exactly("ibandronate_osteoporosis_oral_dose_mg"),
            exactly("ibandronate_osteoporosis_iv_dose_mg"),
        ),
        oncology_interval=Band(None, "ibandronate_oncology_interval_max_days"),
        osteoporosis_interval=Band("ibandronate_osteoporosis_interval_min_days", None),
    ),
    "incadronate": AgentBands(
        oncology_doses=(Band(None, "incadronate_oncology_dose_max_mg"),),
        oncology_interval=Band(None, "oncology_interval_max_days"),
    ),
    "pamidronate": AgentBands(
        oncology_doses=(exactly("pamidronate_oncology_dose_mg"),),
        oncology_interval=Band(None, "oncology_interval_max_days"),
    ),
}
"""Per agent, which threshold bands read as which regimen. An agent not listed here has no band: its
regimen comes from the code sets (alendronate and risedronate are always osteoporosis) or is unknown."""


def classify_regimen(
    agent: str,
    *,
    fixed: Regimen | None,
    product: Regimen | None,
    dose_mg: float | None,
    interval_days: float | None,
    t: Thresholds,
) -> Regimen:
    """`fixed` is the agent's only regimen (code sets); `product` the regimen of a matched product code."""
    if fixed is not None:
        return fixed
    if product is not None:
        return product
    bands = BANDS.get(agent)
    if bands is None:
        return "unknown"
    by_dose = _by_dose(bands, dose_mg, t)
    if by_dose is not None:
        return by_dose
    return _by_interval(bands, interval_days, t) or "unknown"


def regimen_by_dose(agent: str, dose_mg: float | None, t: Thresholds) -> Regimen | None:
    """The regimen the stated dose alone reads as; None when there is no dose or it matches no band."""
    bands = BANDS.get(agent)
    return _by_dose(bands, dose_mg, t) if bands is not None else None


def _by_dose(bands: AgentBands, dose_mg: float | None, t: Thresholds) -> Regimen | None:
    if dose_mg is None:
        return None
    tolerance = t["dose_tolerance_mg"]
    if any(band.holds(dose_mg, t, tolerance) for band in bands.oncology_doses):
        return "oncology"
    if any(band.holds(dose_mg, t, tolerance) for band in bands.osteoporosis_doses):
        return "osteoporosis"
    return None


def _by_interval(bands: AgentBands, interval_days: float | None, t: Thresholds) -> Regimen | None:
    if interval_days is None:
        return None
    if bands.oncology_interval is not None and bands.oncology_interval.holds(interval_days, t):
        return "oncology"
    if bands.osteoporosis_interval is not None and bands.osteoporosis_interval.holds(interval_days, t):
        return "osteoporosis"
    return None
