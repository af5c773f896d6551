"""Cards and feedback entries shaped like the ones the service renders and CDS Clients send."""

from __future__ import annotations

import uuid
from typing import Any


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def card(rule_id: str, indicator: str = "warning", **extra: Any) -> dict[str, Any]:
    """A card as hooks/cards.py renders it, reduced to what the store reads."""
    return {
        "uuid": str(uuid.uuid4()),
        "summary": f"{rule_id} fired",
        "indicator": indicator,
        "source": {
            "label": "2022 CSCO consensus, bone metastasis in lung cancer",
            "topic": {"system": "https://bonemet-cds.org/fhir/CodeSystem/rule", "code": rule_id},
        },
        **extra,
    }


def overridden(card_uuid: str, code: str | None = None, comment: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "card": card_uuid,
        "outcome": "overridden",
        "outcomeTimestamp": "2026-03-01T08:30:00Z",
    }
    reason: dict[str, Any] = {}
    if code:
        reason["reason"] = {
            "system": "https://bonemet-cds.org/fhir/CodeSystem/override",
            "code": code,
            "display": code.replace("-", " "),
        }
    if comment:
        reason["userComment"] = comment
    if reason:
        item["overrideReason"] = reason
    return item


def accepted(card_uuid: str, *suggestion_uuids: str) -> dict[str, Any]:
    return {
        "card": card_uuid,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": s} for s in suggestion_uuids or (str(uuid.uuid4()),)],
        "outcomeTimestamp": "2026-03-01T08:31:00.250+08:00",
    }
