"""Nerve root compression (ICD-10 G55*) maps to the `nerve_compression` category that BONE-IMAGING-WORKUP
reads as a clinical feature of bone metastasis (consensus section 5, Fig. 2)."""

from __future__ import annotations

import pytest

from tests.mappings.fhir_builders import ICD10, ICD10CM, condition
from tests.mappings.test_status_and_robustness import facts_of


@pytest.mark.parametrize(("code", "system"), [("G55", ICD10CM), ("G55.0", ICD10), ("G550", ICD10)])
def test_g55_is_nerve_compression(code, system):
    built = facts_of(condition(code, system))
    assert [c.category for c in built.conditions_in("nerve_compression")] == ["nerve_compression"]


@pytest.mark.parametrize("code", ["G55.1", "G55.2", "G55.3"])
def test_who_compression_by_disc_or_spondylosis_is_not_a_bone_metastasis_feature(code):
    """WHO ICD-10 subdivides G55: only G55.0 (in neoplastic disease) points at bone metastasis; a disc
    disorder (G55.1) or spondylosis (G55.2) must not start a bone-metastasis work-up."""
    assert facts_of(condition(code, ICD10)).conditions_in("nerve_compression") == ()


def test_cord_compression_is_not_nerve_compression():
    built = facts_of(condition("G95.20"))
    assert built.conditions_in("nerve_compression") == ()
    assert len(built.conditions_in("spinal_cord_compression")) == 1
