"""docs/clinicians.md is generated from the rules: it must match what the code would write now."""

import subprocess
import sys
from pathlib import Path

from hooks.catalog_doc import DOC_PATH, render
from hooks.rule_registry import all_rules

REPO = Path(__file__).resolve().parents[2]
EARLY_IMPORT_THEN_RENDER = """
import hooks.rules.za_renal_dosing, hooks.rules.mdt_referral
from hooks.catalog_doc import DOC_PATH, render
raise SystemExit(0 if DOC_PATH.read_text(encoding="utf-8") == render() else 1)
"""


def test_clinicians_catalog_is_up_to_date():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run: python -m hooks.catalog_doc"


def test_every_registered_rule_is_in_the_catalog():
    text = DOC_PATH.read_text(encoding="utf-8")
    assert all(f"## {rule_id}" in text for rule_id in all_rules())


def test_the_catalog_does_not_depend_on_which_rule_module_was_imported_first():
    """Rules register when their module is imported; a test or a plug-in importing one early used to
    reorder the generated catalog (and fail the check above in some test orders)."""
    command = [sys.executable, "-c", EARLY_IMPORT_THEN_RENDER]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr.decode()[-2000:]
