"""Shared helpers of the demo tests: the index, and rule IDs read from cards."""

from __future__ import annotations

from typing import Any

from cds_service.demo_catalog import load_index

INDEX = load_index()
PATIENT_IDS = [patient.id for patient in INDEX.patients]


def rule_ids(cards: list[dict[str, Any]]) -> list[str]:
    return sorted(card["source"]["topic"]["code"] for card in cards)
