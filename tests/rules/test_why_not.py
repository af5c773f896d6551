"""Why a rule stayed silent (`hooks/why_not.py`): every silent path of every rule gives a reason, and the
reason names the fact that decided (the bone health review shows it beside the rule, issue 12).

The code walk below is the guard: a new `return None` in a rule, or a rule that can run off its end, fails
here before any chart reaches it. The clinical tests check the sentence on both sides of a rule: silent
with the decisive value and date, or firing with no reason recorded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hooks.rules
from hooks.rule_registry import all_rules
from hooks.rules.bma_initiation import bma_initiation
from hooks.rules.hypocalcemia_correction import hypocalcemia_correction
from hooks.rules.oral_exam import oral_exam
from hooks.rules.spinal_cord_compression import spinal_cord_compression
from hooks.rules.za_renal_dosing import za_renal_dosing
from hooks.why_not import listening, not_fired
from tests.rules.factories import (
    THRESHOLDS,
    bone_metastasis,
    calcium,
    coded,
    crcl,
    denosumab,
    event,
    facts,
    lab,
    zoledronic_acid,
)

RULES_DIR = Path(hooks.rules.__file__).parent


def finding_functions(source: str) -> list[ast.FunctionDef]:
    """Functions annotated to return `Finding | None`: the rules and the helpers whose result they return."""
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef)
        and node.returns is not None
        and {"Finding", "None"} <= set(ast.unparse(node.returns).replace("|", " ").split())
    ]


def silent_exits(fn: ast.FunctionDef) -> list[int]:
    """Lines where `fn` gives None without a reason: `return`, `return None`, `x if c else None`, or
    running off its end."""
    found = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and _is_none(node.value):
            found.append(node.lineno)
    if not _ends(fn.body):
        found.append(fn.end_lineno or fn.lineno)
    return found


def _is_none(value: ast.expr | None) -> bool:
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return True
    return isinstance(value, ast.IfExp) and (_is_none(value.body) or _is_none(value.orelse))


def _ends(body: list[ast.stmt]) -> bool:
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    return isinstance(last, ast.If) and bool(last.orelse) and _ends(last.body) and _ends(last.orelse)


def test_no_rule_returns_none_without_a_reason():
    """Every `Finding | None` function in hooks/rules returns a Finding, another such function's result,
    or `not_fired(reason)`."""
    offences = {
        f"{path.name}:{fn.name}:{line}"
        for path in sorted(RULES_DIR.glob("*.py"))
        for fn in finding_functions(path.read_text(encoding="utf-8"))
        for line in silent_exits(fn)
    }
    assert offences == set()


def test_the_walk_sees_every_rule_and_counts_the_reason_sites():
    walked = {fn.name for path in RULES_DIR.glob("*.py") for fn in finding_functions(path.read_text("utf-8"))}
    assert {r.evaluate.__name__ for r in all_rules().values()} <= walked
    sites = sum(path.read_text("utf-8").count("not_fired(") for path in RULES_DIR.glob("*.py"))
    assert sites >= len(all_rules())


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("def r(f) -> Finding | None:\n    if f:\n        return None\n    return not_fired('x')\n", [3]),
        ("def r(f) -> Finding | None:\n    return F() if f else None\n", [2]),
        ("def r(f) -> Finding | None:\n    if f:\n        return F()\n", [3]),
        ("def r(f) -> Finding | None:\n    if f:\n        return F()\n    return not_fired('x')\n", []),
    ],
)
def test_the_walk_catches_a_silent_exit(source, lines):
    """The guard itself: a bare None, a None branch, a fall-through are caught; a reason passes."""
    assert [line for fn in finding_functions(source) for line in silent_exits(fn)] == lines


def test_nobody_listening_costs_no_reason():
    """In a hook call the reason is never built: a callable reason is not called."""

    def expensive() -> str:
        raise AssertionError("built a reason nobody asked for")

    assert not_fired(expensive) is None
    with listening() as heard:
        assert not_fired(lambda: "heard") is None
    assert heard == ["heard"]


def test_oral_exam_recent_exam_names_its_date():
    """On denosumab with a dental examination 100 days ago: silent, and the reason gives the exam's date
    and the interval."""
    exam = event("dental_exam", days=100)
    with listening() as heard:
        assert oral_exam(facts(medications=[denosumab()], events=[exam]), THRESHOLDS) is None
    assert exam.day.isoformat() in heard[-1] and "183 days" in heard[-1]


def test_oral_exam_old_exam_fires_without_a_reason():
    with listening() as heard:
        finding = oral_exam(
            facts(medications=[denosumab()], events=[event("dental_exam", days=300)]), THRESHOLDS
        )
    assert finding is not None and heard == []


def test_hypocalcemia_correction_normal_calcium_names_value_and_limit():
    """On denosumab with corrected calcium 9.4 mg/dL: not low, and the reason says so with the limit."""
    chart = facts(medications=[denosumab()], calcium_status=calcium(9.4))
    with listening() as heard:
        assert hypocalcemia_correction(chart, THRESHOLDS) is None
    assert (
        heard[-1].startswith("Corrected calcium 9.4 mg/dL") and "not below the lower limit 8.5" in heard[-1]
    )
    low = facts(medications=[denosumab()], calcium_status=calcium(7.9))
    assert hypocalcemia_correction(low, THRESHOLDS) is not None


def test_bma_initiation_active_drug_is_named():
    """Confirmed bone metastasis, already on denosumab: no initiation card, and the reason names the drug."""
    drug = denosumab()
    chart = facts(conditions=[bone_metastasis()], medications=[drug], calcium_status=calcium(9.4))
    with listening() as heard:
        assert bma_initiation(chart, THRESHOLDS) is None
    assert heard[-1] == f"A bone-modifying drug is already active: {drug.display}"
    naive = facts(conditions=[bone_metastasis()], calcium_status=calcium(9.4))
    assert bma_initiation(naive, THRESHOLDS) is not None


def test_bma_initiation_suspected_metastasis_says_suspected():
    chart = facts(conditions=[bone_metastasis("suspected")], calcium_status=calcium(9.4))
    with listening() as heard:
        assert bma_initiation(chart, THRESHOLDS) is None
    assert heard[-1].startswith("Bone metastasis is suspected only, not confirmed")


def test_spinal_cord_compression_escc_below_1c_names_the_grade():
    """ESCC 1b scored 5 days ago: no card, and the reason gives the grade and the 1c cut-off; ESCC 2 fires."""
    with listening() as heard:
        assert (
            spinal_cord_compression(facts(coded_results=[coded("escc_grade", "1b", days=5)]), THRESHOLDS)
            is None
        )
    assert "ESCC grade 1b" in heard[-1] and "below 1c" in heard[-1]
    assert spinal_cord_compression(facts(coded_results=[coded("escc_grade", "2", days=5)]), THRESHOLDS)


def test_za_renal_dosing_fitting_dose_names_label_dose_and_clearance():
    """Zoledronic acid 4 mg with CrCl 75 and a stable creatinine: no card; the reason gives both."""
    drug = zoledronic_acid(dose_mg=4)
    chart = facts(
        medications=[drug],
        clearance=crcl(75),
        labs=[lab("creatinine", 0.9, days=40), lab("creatinine", 0.95)],
    )
    with listening() as heard:
        assert za_renal_dosing(chart, THRESHOLDS) is None
    assert "CrCl 75 mL/min" in heard[-1] and "label dose 4 mg" in heard[-1]
    failing = facts(medications=[drug], clearance=crcl(25), labs=[lab("creatinine", 2.5)])
    assert za_renal_dosing(failing, THRESHOLDS) is not None
