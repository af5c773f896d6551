"""Oncology or osteoporosis regimen of a bone-modifying-agent order (RULES.md 7.1.5).

Each band is tested on both sides of its edge; the order of evidence (product code, then dose, then
interval) is tested where two of them disagree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_mappings.regimens import classify_regimen, regimen_by_dose
from fhir_mappings.thresholds import Thresholds

T = Thresholds.load()


def regimen(agent, dose=None, interval=None, *, product=None, fixed=None, t=T):
    return classify_regimen(agent, fixed=fixed, product=product, dose_mg=dose, interval_days=interval, t=t)


@pytest.mark.parametrize(
    ("agent", "dose", "expected"),
    [
        ("denosumab", 120, "oncology"),
        ("denosumab", 60, "osteoporosis"),
        ("denosumab", 90, "unknown"),  # neither product's dose: the dose decides nothing
        ("zoledronic_acid", 4.0, "oncology"),
        ("zoledronic_acid", 3.0, "oncology"),  # lowest renally adjusted dose
        ("zoledronic_acid", 2.9, "unknown"),
        ("zoledronic_acid", 4.1, "unknown"),
        ("zoledronic_acid", 5, "osteoporosis"),
        ("ibandronate", 6, "oncology"),
        ("ibandronate", 150, "osteoporosis"),  # monthly tablet
        ("ibandronate", 3, "osteoporosis"),  # 3-monthly injection
        ("ibandronate", 50, "unknown"),
        ("pamidronate", 90, "oncology"),
        ("pamidronate", 30, "unknown"),
        ("incadronate", 10, "oncology"),
        ("incadronate", 5, "oncology"),  # the over-65 dose
    ],
)
def test_the_stated_dose_decides_when_there_is_no_product_code(agent, dose, expected):
    assert regimen(agent, dose) == expected


@pytest.mark.parametrize(
    ("agent", "interval", "expected"),
    [
        ("denosumab", 28, "oncology"),
        ("denosumab", 35, "oncology"),  # oncology_interval_max_days
        ("denosumab", 36, "unknown"),
        ("denosumab", 149, "unknown"),
        ("denosumab", 150, "osteoporosis"),  # denosumab_osteoporosis_interval_days
        ("denosumab", 182.621, "osteoporosis"),  # every 6 months
        ("zoledronic_acid", 84, "oncology"),  # extended interval up to 12 weeks
        ("zoledronic_acid", 85, "unknown"),
        ("zoledronic_acid", 329, "unknown"),
        ("zoledronic_acid", 365.25, "osteoporosis"),
        ("ibandronate", 28, "oncology"),
        ("ibandronate", 29, "unknown"),
        ("ibandronate", 30.437, "osteoporosis"),  # monthly tablet
        ("ibandronate", 91.311, "osteoporosis"),  # 3-monthly injection
        ("pamidronate", 28, "oncology"),
        ("pamidronate", 90, "unknown"),
    ],
)
def test_without_a_readable_dose_the_interval_decides(agent, interval, expected):
    assert regimen(agent, None, interval) == expected


def test_nothing_readable_is_unknown_never_osteoporosis():
    assert regimen("denosumab") == "unknown"
    assert regimen("zoledronic_acid", 90, 100) == "unknown"


def test_product_code_decides_before_dose_and_interval():
    """A Prolia code with 120 mg typed in is still the Prolia product (DENOSUMAB-DOSE handles the mismatch);
    an Xgeva code with a 6-monthly schedule is still the oncology product."""
    assert regimen("denosumab", 120, 28, product="osteoporosis") == "osteoporosis"
    assert regimen("denosumab", 60, 182.6, product="oncology") == "oncology"


def test_dose_decides_before_interval():
    assert regimen("zoledronic_acid", 4, 365.25) == "oncology"
    assert regimen("denosumab", 60, 28) == "osteoporosis"


def test_oral_bisphosphonates_are_always_osteoporosis():
    """Alendronate and risedronate have no oncology regimen (RULES.md 7.1.3), whatever the order says."""
    assert regimen("alendronate", 120, 28, fixed="osteoporosis") == "osteoporosis"
    assert regimen("risedronate", fixed="osteoporosis") == "osteoporosis"


def test_an_agent_without_bands_is_unknown():
    assert regimen("etidronate", 400, 1) == "unknown"


def test_regimen_by_dose_ignores_the_interval():
    assert regimen_by_dose("denosumab", 120, T) == "oncology"
    assert regimen_by_dose("denosumab", None, T) is None
    assert regimen_by_dose("denosumab", 100, T) is None


def test_bands_are_site_settings(tmp_path: Path):
    """A site that treats zoledronic acid every 3 months as its oncology continuation widens the band in
    thresholds.yaml; no code changes."""
    (tmp_path / "thresholds.yaml").write_text("za_oncology_interval_max_days: 92\n", encoding="utf-8")
    site = Thresholds.load(tmp_path)
    assert regimen("zoledronic_acid", None, 91.311) == "unknown"
    assert regimen("zoledronic_acid", None, 91.311, t=site) == "oncology"
