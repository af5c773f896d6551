"""Card templates are checked at start-up; a malformed one names its file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hooks.card_template import TEMPLATE_DIR, CardTemplateError, load_card_templates, parse_card_template
from tests.cards.conftest import TEMPLATE_DIR as TEST_TEMPLATE_DIR

VALID = """\
rule_id: {rule_id}
consensus_section: "6.3"
variants:
  default:
    summary: "Start a bone-modifying agent"
    detail: |
      Confirmed bone metastasis and no active agent.
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_test_templates_load_keyed_by_rule_id() -> None:
    templates = load_card_templates(TEST_TEMPLATE_DIR)
    assert set(templates) == {"EXAMPLE-DOSE-CHECK", "EXAMPLE-INFO"}
    dose = templates["EXAMPLE-DOSE-CHECK"]
    assert dose.consensus_section == "6.3.3"
    assert set(dose.variants) == {"default", "long", "no-values"}
    assert dose.variants["default"].placeholders == {"dose", "crcl", "drafted"}


def test_every_shipped_template_loads() -> None:
    """The rule engineers' templates in hooks/card_templates pass the same checks."""
    templates = load_card_templates()
    assert templates, f"no templates in {TEMPLATE_DIR}"
    assert all(t.rule_id == name for name, t in templates.items())


def test_required_rule_ids_without_a_template_are_named(tmp_path: Path) -> None:
    _write(tmp_path, "BMA-INITIATION", VALID.format(rule_id="BMA-INITIATION"))
    assert set(load_card_templates(tmp_path, required_rule_ids=["BMA-INITIATION"])) == {"BMA-INITIATION"}
    with pytest.raises(CardTemplateError, match="no card template for rule.*ORAL-EXAM.*ZA-RENAL-DOSING"):
        load_card_templates(tmp_path, required_rule_ids=["ZA-RENAL-DOSING", "BMA-INITIATION", "ORAL-EXAM"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID.format(rule_id="ORAL-EXAM"), r"BMA-INITIATION.yaml: field 'rule_id' is 'ORAL-EXAM'"),
        (
            VALID.format(rule_id="BMA-INITIATION").replace('consensus_section: "6.3"\n', ""),
            "'consensus_section'",
        ),
        (
            VALID.format(rule_id="BMA-INITIATION").replace('"6.3"', "6.3"),
            "'consensus_section' must be quoted",
        ),
        (
            "rule_id: BMA-INITIATION\nconsensus_section: '6.3'\nvariants: {}\n",
            "'variants' must be a non-empty",
        ),
        (
            VALID.format(rule_id="BMA-INITIATION").replace("    summary:", "    sumary:"),
            "variants.default.sumary",
        ),
        (
            VALID.format(rule_id="BMA-INITIATION").replace(
                "    detail: |\n      Confirmed", "    detail2: |\n      C"
            ),
            "variants.default.detail",
        ),
        (
            VALID.format(rule_id="BMA-INITIATION").replace('agent"', '{dose:.1f} mg"'),
            r"placeholder '\{dose\}'",
        ),
        (VALID.format(rule_id="BMA-INITIATION").replace('agent"', '{0}"'), "use a plain name"),
        (VALID.format(rule_id="BMA-INITIATION").replace('agent"', '{x.__class__}"'), "use a plain name"),
        (VALID.format(rule_id="BMA-INITIATION").replace('agent"', '{dose"'), "broken placeholder"),
        (
            VALID.format(rule_id="BMA-INITIATION").replace("Start a", "x" * 141),
            r"\d+ characters before any placeholder is filled \(limit 140\)",
        ),
        (
            VALID.format(rule_id="BMA-INITIATION").replace("no active agent.", "[label]({url})"),
            "inside a link target",
        ),
        (VALID.format(rule_id="BMA-INITIATION").replace("no active agent.", '<a href="{u}">'), "HTML tag"),
        ("- a list\n", "expected a mapping"),
        ("rule_id: [unclosed\n", "not valid YAML"),
        (VALID.format(rule_id="BMA-INITIATION") + "wording: x\n", "unknown field"),
    ],
)
def test_a_malformed_template_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "BMA-INITIATION", text)
    with pytest.raises(CardTemplateError, match=message) as caught:
        parse_card_template(path)
    assert "BMA-INITIATION.yaml" in str(caught.value)


def test_a_literal_brace_is_allowed_when_doubled(tmp_path: Path) -> None:
    text = VALID.format(rule_id="BMA-INITIATION").replace("no active agent.", "set {{a, b}} of {count}")
    template = parse_card_template(_write(tmp_path, "BMA-INITIATION", text))
    _, detail = template.fill("default", {"count": "2"}, escape=str)
    assert "set {a, b} of 2" in detail


def test_fill_escapes_detail_values_but_not_the_summary(tmp_path: Path) -> None:
    text = VALID.format(rule_id="BMA-INITIATION").replace('agent"', '{drug}"').replace("agent.", "{drug}.")
    template = parse_card_template(_write(tmp_path, "BMA-INITIATION", text))
    summary, detail = template.fill("default", {"drug": "*x*"}, escape=lambda v: v.replace("*", "\\*"))
    assert summary == "Start a bone-modifying *x*"
    assert "no active \\*x\\*." in detail


def test_a_less_than_sign_in_prose_is_not_mistaken_for_a_tag(tmp_path: Path) -> None:
    text = VALID.format(rule_id="BMA-INITIATION").replace(
        "no active agent.", "CrCl < 30 mL/min ({crcl}), <{crcl}"
    )
    template = parse_card_template(_write(tmp_path, "BMA-INITIATION", text))
    assert template.variants["default"].placeholders == {"crcl"}


def test_a_detail_of_more_than_three_lines_is_refused_and_the_rationale_holds_the_rest(
    tmp_path: Path,
) -> None:
    """Issue 12: a card says what to do in at most three lines; the explanation is the variant's rationale."""
    long = VALID.format(rule_id="BMA-INITIATION").replace(
        "      Confirmed bone metastasis and no active agent.\n",
        "      One.\n      Two.\n\n      Three.\n      Four.\n",
    )
    with pytest.raises(CardTemplateError, match=r"variants.default.detail' has 4 lines \(limit 3\)"):
        parse_card_template(_write(tmp_path, "BMA-INITIATION", long))
    kept = VALID.format(rule_id="BMA-INITIATION") + "    rationale: |\n      Why, for {who}.\n"
    template = parse_card_template(_write(tmp_path, "BMA-INITIATION", kept))
    assert template.variants["default"].rationale == "Why, for {who}."
    assert template.rationale("default", {"who": "a *clinician*"}, lambda v: v.replace("*", "\\*")) == (
        "Why, for a \\*clinician\\*."
    )


def test_every_shipped_variant_keeps_its_long_explanation_as_rationale() -> None:
    """The wording cut from the cards is not lost: the SMART app shows it."""
    templates = load_card_templates()
    missing = [
        f"{rule}:{name}"
        for rule, template in templates.items()
        for name, variant in template.variants.items()
        if len(variant.rationale) < 80
    ]
    assert missing == []
