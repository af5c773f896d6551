"""Rendered cards validate against cds_service/schemas/cds_response.schema.json, and the schema has teeth."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import pytest

from cds_service.schemas import load_schema
from hooks.card_template import load_card_templates
from hooks.cards import render_card
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from tests.cards.conftest import ZA_DRAFT_REF, dose_finding


def _errors(validator: jsonschema_rs.Validator, response: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message[:160]}" for e in validator.iter_errors(response)
    ]


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    assert jsonschema_rs.meta.is_valid(load_schema("cds_response.schema.json"))


def test_an_empty_card_list_is_a_valid_response(response_validator) -> None:
    assert _errors(response_validator, {"cards": []}) == []
    assert not response_validator.is_valid({})


def _findings() -> list[Finding]:
    return [
        dose_finding(),
        dose_finding(missing=("sex",), variant="long", values={"drafted": "x " * 100}),
        dose_finding(
            indicator="critical",
            suggestions=(
                SuggestionSpec(
                    "Replace with denosumab",
                    (
                        ActionSpec("delete", target=ZA_DRAFT_REF),
                        ActionSpec("create", order_key="denosumab_120mg_q4w"),
                    ),
                    is_recommended=True,
                ),
            ),
        ),
        Finding("EXAMPLE-INFO", "info"),
        Finding(
            "EXAMPLE-INFO",
            "info",
            suggestions=tuple(
                SuggestionSpec(key, (ActionSpec("create", order_key=key, reason="bone metastasis"),))
                for key in ("lab_calcium", "lab_creatinine", "imaging_mri_spine", "referral_mdt")
            ),
        ),
        Finding("EXAMPLE-INFO", "info", suggestions=(SuggestionSpec("Review continuation", ()),)),
    ]


@pytest.mark.parametrize(
    "finding", _findings(), ids=lambda f: f"{f.rule_id}-{f.variant}-{len(f.suggestions)}"
)
def test_every_rendered_card_validates(render, response_validator, finding: Finding) -> None:
    assert _errors(response_validator, {"cards": [render(finding)]}) == []


def test_every_shipped_template_variant_renders_a_valid_card(catalog, response_validator) -> None:
    """Whatever wording the rule engineers write, filled with long values, still makes a valid card."""
    cards = []
    for rule_id, template in load_card_templates().items():
        for name, variant in template.variants.items():
            values = dict.fromkeys(variant.placeholders, "value " * 30)
            finding = Finding(rule_id, "info", variant=name, values=values)
            cards.append(
                render_card(finding, template, patient_id="p1", draft_orders_by_ref={}, order_catalog=catalog)
            )
    assert cards
    assert _errors(response_validator, {"cards": cards}) == []
    assert all(len(card["summary"]) <= 140 for card in cards)


@pytest.fixture
def card(render) -> dict[str, Any]:
    return render(
        dose_finding(
            suggestions=(
                SuggestionSpec(
                    "Reduce", (ActionSpec("update", order_key="zoledronic_acid_3mg", target=ZA_DRAFT_REF),)
                ),
                SuggestionSpec("Remove", (ActionSpec("delete", target=ZA_DRAFT_REF),)),
            ),
            selection_behavior="at-most-one",
        ),
        public_base_url="https://cds.example.org/",
    )


def _break(card: dict[str, Any], edit) -> dict[str, Any]:
    broken = copy.deepcopy(card)
    edit(broken)
    return {"cards": [broken]}


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("summary over 140", lambda c: c.update(summary="x" * 141)),
        ("no summary", lambda c: c.pop("summary")),
        ("no uuid", lambda c: c.pop("uuid")),
        ("bad indicator", lambda c: c.update(indicator="hard-stop")),
        ("source without label", lambda c: c["source"].pop("label")),
        ("topic without system", lambda c: c["source"]["topic"].pop("system")),
        ("suggestions without selectionBehavior", lambda c: c.pop("selectionBehavior")),
        ("selectionBehavior without suggestions", lambda c: c.pop("suggestions")),
        ("bad selectionBehavior", lambda c: c.update(selectionBehavior="all")),
        ("override reason without display", lambda c: c["overrideReasons"][0].pop("display")),
        ("delete without resourceId", lambda c: c["suggestions"][1]["actions"][0].pop("resourceId")),
        (
            "delete with a bare id",
            lambda c: c["suggestions"][1]["actions"][0].update(resourceId="za-draft-1"),
        ),
        ("update without resource", lambda c: c["suggestions"][0]["actions"][0].pop("resource")),
        ("update without resource id", lambda c: c["suggestions"][0]["actions"][0]["resource"].pop("id")),
        ("action without description", lambda c: c["suggestions"][0]["actions"][0].pop("description")),
        ("unknown action type", lambda c: c["suggestions"][0]["actions"][0].update(type="replace")),
        ("suggestion uuid not a uuid", lambda c: c["suggestions"][0].update(uuid="s-1")),
        ("link type", lambda c: c["links"][0].update(type="relative")),
        ("appContext on absolute link", lambda c: c["links"][0].update(type="absolute", appContext="x")),
        ("misspelt field", lambda c: c.update(overrideReason=[])),
        ("empty links", lambda c: c.update(links=[])),
    ],
)
def test_the_schema_refuses_a_broken_card(card, response_validator, name: str, edit) -> None:
    assert _errors(response_validator, {"cards": [card]}) == []
    assert not response_validator.is_valid(_break(card, edit)), name


def test_system_actions_are_actions(card, response_validator) -> None:
    action = card["suggestions"][1]["actions"][0]
    assert response_validator.is_valid({"cards": [], "systemActions": [action]})
    assert not response_validator.is_valid({"cards": [], "systemActions": [{"type": "delete"}]})
