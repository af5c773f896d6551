"""docs/clinicians.md is generated from the rules: it must match what the code would write now."""

from hooks.catalog_doc import DOC_PATH, render
from hooks.rule_registry import all_rules


def test_clinicians_catalog_is_up_to_date():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run: python -m hooks.catalog_doc"


def test_every_registered_rule_is_in_the_catalog():
    text = DOC_PATH.read_text(encoding="utf-8")
    assert all(f"## {rule_id}" in text for rule_id in all_rules())
