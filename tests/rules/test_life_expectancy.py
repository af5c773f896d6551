"""RULES.md 7.1.7 states that expire: `_shared.life_expectancy_limitations` (hospice, terminal illness, the
life-expectancy assessment), read by BMA-INITIATION, ICI-BONE-METASTASIS, FRACTURE-RISK and others."""

from __future__ import annotations

import pytest

from hooks.rules._shared import life_expectancy_limitations
from hooks.rules.ici_bone_metastasis import ici_bone_metastasis
from tests.rules.factories import THRESHOLDS, bone_metastasis, coded, condition, event, facts, medication


def limited(*, events=(), conditions=(), coded_results=()):
    patient = facts(events=events, conditions=conditions, coded_results=coded_results)
    return bool(life_expectancy_limitations(patient, THRESHOLDS))


@pytest.mark.parametrize(
    ("status", "days", "counts"),
    [("in-progress", 400, True), ("finished", 90, True), ("finished", 91, False), ("finished", 1000, False)],
)
def test_hospice_encounter_counts_while_in_progress_or_finished_within_90_days(status, days, counts):
    """A hospice stay from 2023 no longer suppresses treatment advice in 2026 (the review's finding)."""
    stay = event("hospice", days=days, status=status, resource_type="Encounter")
    assert limited(events=[stay]) is counts


@pytest.mark.parametrize(
    ("status", "days", "counts"),
    [("active", 500, True), ("completed", 30, True), ("completed", 200, False), ("on-hold", 5, False)],
)
def test_hospice_referral_counts_while_active_or_completed_within_90_days(status, days, counts):
    referral = event("hospice", days=days, status=status, resource_type="ServiceRequest")
    assert limited(events=[referral]) is counts


@pytest.mark.parametrize(("status", "counts"), [("active", True), ("finished", False)])
def test_hospice_episode_of_care_counts_while_active(status, counts):
    episode = event("hospice", days=300, status=status, resource_type="EpisodeOfCare")
    assert limited(events=[episode]) is counts


def test_terminal_illness_counts_while_its_condition_is_active():
    """The mapping keeps active Conditions only; an active terminal illness counts whatever its age."""
    assert limited(conditions=[condition("life_expectancy_limited", code="300936002", days=700)])


@pytest.mark.parametrize(("days", "counts"), [(90, True), (91, False)])
def test_assessment_counts_when_newest_and_within_90_days(days, counts):
    assert limited(coded_results=[coded("life_expectancy_under_3_months", "true", days=days)]) is counts


def test_newer_assessment_saying_no_supersedes():
    results = [
        coded("life_expectancy_under_3_months", "true", days=20),
        coded("life_expectancy_under_3_months", "false", days=2),
    ]
    assert not limited(coded_results=results)


def test_nothing_documented_is_not_limited():
    assert not limited()


def test_expired_hospice_no_longer_suppresses_the_ici_card():
    """Pembrolizumab with bone metastasis, hospice in 2023: the ICI card fires again."""
    pembro = medication("pembrolizumab", agent_class="ici", interval_days=21, dose_mg=200)
    old = event("hospice", days=1000, status="finished", resource_type="Encounter")
    current = event("hospice", days=3, status="in-progress", resource_type="Encounter")
    base = {"conditions": [bone_metastasis()], "medications": [pembro]}
    assert ici_bone_metastasis(facts(events=[old], **base), THRESHOLDS) is not None
    assert ici_bone_metastasis(facts(events=[current], **base), THRESHOLDS) is None
