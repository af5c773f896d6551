"""Text from the EHR cannot inject Markdown or HTML into a card, whatever field it arrives in.

The rendered detail is checked with markdown-it-py with raw HTML *allowed* (the worst renderer an EHR
might use): no script, no image, no link, and the evidence table keeps four cells per row.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fhir_mappings.facts import Evidence
from hooks.findings import Finding
from hooks.markdown import _escape_specials, _is_invisible, escape_markdown, plain_text, shorten
from tests.cards.conftest import dose_finding

markdown_it = pytest.importorskip("markdown_it")

ATTACKS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "<javascript:alert(1)>",
    "<img src=x onerror=alert(1)>",
    "https://evil.example/phish",
    "www.evil.example",
    "nurse@evil.example",
    "a | b | c",
    "line one\n\n# heading\n| forged | row | x | y |",
    "1. listed",
    "- bullet",
    "**bold** _em_ `code` ~~gone~~",
    "back\\slash \\[x\\](javascript:alert(1))",
    "&lt;script&gt; entities",
    "right\u202eto-left override and zero\u200bwidth",
]


def _html(markdown: str) -> str:
    renderer = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return renderer.render(markdown)


def _assert_inert(html: str) -> None:
    assert "<script" not in html
    assert "<img" not in html
    assert "<a " not in html and "href" not in html
    assert "<h1" not in html and "<ol" not in html
    assert "<strong>bold" not in html and "<em>" not in html and "<code>" not in html and "<del>" not in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_evidence_value_renders_as_its_own_text_in_one_cell(render, attack: str) -> None:
    evidence = (Evidence(attack, attack, date(2026, 11, 20), attack, note=attack),)
    html = _html(render(dose_finding(evidence=evidence))["detail"])
    _assert_inert(html)
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    assert len(rows) == 2  # header and the one evidence row
    assert all(row.count("<td>") + row.count("<th>") == 4 for row in rows)


@pytest.mark.parametrize("attack", ATTACKS)
def test_missing_items_outside_sources_and_placeholder_values_are_escaped(render, attack: str) -> None:
    finding = dose_finding(
        values={"dose": attack, "crcl": attack, "drafted": attack},
        missing=(attack,),
        outside_sources=(attack,),
    )
    card = render(finding)
    _assert_inert(_html(card["detail"]))
    assert "\n" not in card["summary"]


def test_the_visible_text_is_kept() -> None:
    """Escaping must not change what the clinician reads."""
    html = _html(escape_markdown("Ca 2.01 mmol/L <low> | *flag* [lab] 12:30 a_b"))
    assert html.strip() == "<p>Ca 2.01 mmol/L &lt;low&gt; | *flag* [lab] 12:30 a_b</p>"


def test_a_decimal_value_is_not_mistaken_for_a_list() -> None:
    assert escape_markdown("4.0 mg/dL") == "4.0 mg/dL"
    assert escape_markdown("3. grade") == "3\\. grade"


def test_plain_text_removes_line_breaks_and_invisible_characters() -> None:
    assert plain_text("a\r\nb\tc\u2028d\u202ee\u200bf") == "a b c d e f"


def test_a_long_value_is_capped_with_an_ellipsis() -> None:
    text = "word " * 100
    assert len(escape_markdown(text)) <= 200
    assert escape_markdown(text).endswith("\u2026")


def test_shorten_cuts_at_a_word_boundary_and_keeps_the_limit() -> None:
    text = "Reduce zoledronic acid to 3.5 mg because creatinine clearance is 52 mL/min " * 3
    cut = shorten(text, 140)
    assert len(cut) <= 140 and cut.endswith("\u2026")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " "


def test_shorten_hard_cuts_one_long_word() -> None:
    assert shorten("x" * 300, 140) == "x" * 139 + "\u2026"


def test_a_finding_value_in_the_summary_cannot_break_the_line(render) -> None:
    card = render(
        Finding("EXAMPLE-DOSE-CHECK", "warning", values={"dose": "3\n\n# x", "crcl": "1", "drafted": "d"})
    )
    assert card["summary"] == "Reduce zoledronic acid to 3 # x mg: CrCl 1 mL/min"


MARKDOWN_ALPHABET = st.sampled_from(list("ab1. -#+)(&<>\\`*_[]|~:@wW\n\t\u200b\u00a0 ")) | st.characters()


@settings(max_examples=500, deadline=None)
@given(st.text(MARKDOWN_ALPHABET, max_size=40))
def test_the_no_special_characters_shortcut_changes_nothing(text: str) -> None:
    """escape_markdown returns text unchanged when one scan finds nothing to escape: that scan must
    never miss what the full escaping would have changed."""
    cleaned = plain_text(text, 200)
    assert escape_markdown(text) == _escape_specials(cleaned)


@settings(max_examples=500, deadline=None)
@given(st.text(MARKDOWN_ALPHABET, max_size=40))
def test_plain_text_shortcut_matches_the_full_cleaning(text: str) -> None:
    full = re.sub(r"\s+", " ", "".join(" " if _is_invisible(ch) else ch for ch in text)).strip()
    assert plain_text(text) == full
