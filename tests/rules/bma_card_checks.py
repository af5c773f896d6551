"""Checks shared by the bone-modifying-agent rule tests: a rule's card template fits its findings.

A template is data a clinician edits; these checks tie it to what the rule really returns, so a renamed
variant or a missing placeholder fails a test here instead of a request at the bedside.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from hooks.card_template import SUMMARY_MAX_CHARS
from hooks.findings import Finding

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "hooks" / "card_templates"


def load_template(rule_id: str) -> dict:
    raw = yaml.safe_load((TEMPLATE_DIR / f"{rule_id}.yaml").read_text(encoding="utf-8"))
    assert raw["rule_id"] == rule_id
    assert raw["consensus_section"]
    return raw


def assert_template_fits(rule_id: str, findings: Iterable[Finding]) -> None:
    """Every variant the rule returned exists, fills from the finding's values, and fits in 140 characters;
    and the template has no variant the findings did not exercise."""
    raw = load_template(rule_id)
    seen = set()
    for finding in findings:
        assert finding.rule_id == rule_id
        variant = raw["variants"][finding.variant]
        summary = variant["summary"].format_map(finding.values)
        variant["detail"].format_map(finding.values)
        assert len(summary) <= SUMMARY_MAX_CHARS, f"{finding.variant}: {len(summary)} chars: {summary}"
        seen.add(finding.variant)
    assert seen == set(raw["variants"]), f"variants not exercised: {set(raw['variants']) - seen}"


def order_keys(finding: Finding) -> list[list[str | None]]:
    """Each suggestion's create/update order keys, in order."""
    return [[a.order_key for a in s.actions] for s in finding.suggestions]


def evidence_refs(finding: Finding) -> set[str | None]:
    return {e.reference for e in finding.evidence}
