"""A Finding rendered as a CDS Hooks 2.0 card meets RULES.md section 3 ("Every card")."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from fhir_mappings.facts import Evidence
from hooks.cards import (
    CONSENSUS_URL,
    OVERRIDE_REASON_SYSTEM,
    SOURCE_LABEL,
    PlaceholderError,
    short_source,
    unbreakable_dates,
)
from hooks.code_systems import RULE_SYSTEM
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.orders import UnknownDraftOrder
from tests.cards.conftest import PROLIA_DRAFT_REF, ZA_DRAFT_REF, dose_finding


def day(iso: str) -> str:
    """A date as the card writes it (non-breaking hyphens)."""
    return unbreakable_dates(iso)


def test_summary_is_filled_from_the_finding_values(render) -> None:
    card = render(dose_finding())
    assert card["summary"] == "Reduce zoledronic acid to 3.0 mg: CrCl 38 mL/min"
    assert card["indicator"] == "warning"
    assert "Creatinine clearance is **38 mL/min**, so the label dose is 3.0 mg." in card["detail"]


def test_a_summary_longer_than_140_characters_is_cut_at_a_word_with_an_ellipsis(render) -> None:
    """A drafted drug display from the EHR can be long; the card stays valid and still reads."""
    drafted = "Zoledronic acid 4 mg/100 mL solution for intravenous infusion (hospital formulary item 0042)"
    card = render(dose_finding(variant="long", values={"drafted": drafted}))
    assert len(card["summary"]) <= 140
    assert card["summary"].endswith("\u2026")
    full = (
        f"Review the drafted order {drafted} against the renal dose table before it is signed, "
        "and confirm the infusion time"
    )
    kept = card["summary"][:-1]
    assert full.startswith(kept)
    assert full[len(kept)] == " ", "cut inside a word"


def test_the_card_uuid_is_a_uuid4_unless_given(render) -> None:
    assert uuid.UUID(render(dose_finding())["uuid"]).version == 4
    assert render(dose_finding(), card_uuid="4e0a3a1e-3283-4575-ab82-028d55fe2719")["uuid"] == (
        "4e0a3a1e-3283-4575-ab82-028d55fe2719"
    )
    assert render(dose_finding())["uuid"] != render(dose_finding())["uuid"]


def test_evidence_table_shows_value_with_unit_date_and_reference(render) -> None:
    detail = render(dose_finding())["detail"]
    assert "| What | Value | Date | Record |" in detail
    assert f"| Creatinine | 1.6 mg/dL | {day('2026-11-20')} | Observation/crea-1 |" in detail
    assert f"| Body weight | 64 kg (within 90 days) | {day('2026-11-02')} | Observation/weight-7 |" in detail
    assert "| Age | 71 years | not recorded | Patient/lung-42 |" in detail


def test_an_evidence_datetime_shows_its_day_and_a_calculated_value_says_so(render) -> None:
    from datetime import UTC, datetime

    evidence = (Evidence("Calcium", "2.01 mmol/L", datetime(2026, 11, 21, 8, 30, tzinfo=UTC), None),)
    detail = render(dose_finding(evidence=evidence))["detail"]
    assert f"| Calcium | 2.01 mmol/L | {day('2026-11-21')} | calculated |" in detail


def test_a_date_never_breaks_across_lines(render) -> None:
    """Browsers break 2026-11-21 at its hyphens in a narrow column; non-breaking hyphens look the same."""
    detail = render(dose_finding())["detail"]
    assert "2026-11-20" not in detail
    assert "2026\u201111\u201120" in detail


def test_the_same_result_under_two_labels_is_one_row(render) -> None:
    same = Evidence("Latest creatinine", "1.6 mg/dL", date(2026, 11, 20), "Observation/crea-1")
    detail = render(dose_finding(evidence=(*dose_finding().evidence, same)))["detail"]
    assert detail.count("Observation/crea-1") == 1
    assert "| Creatinine (also\\: latest) | 1.6 mg/dL |" in detail


def test_missing_data_is_listed_and_the_card_says_nothing_was_guessed(render) -> None:
    finding = dose_finding(missing=("body weight within 90 days", "sex"))
    detail = render(finding)["detail"]
    assert "| body weight within 90 days | **missing** (not in the record; not guessed) |" in detail
    assert "| sex | **missing** (not in the record; not guessed) |" in detail


def test_no_missing_data_row_when_nothing_is_missing(render) -> None:
    assert "missing" not in render(dose_finding())["detail"]


def test_sources_line_names_the_consensus_section_and_outside_numbers_briefly(render) -> None:
    detail = render(dose_finding())["detail"]
    assert detail.rstrip().endswith("**Source:** Consensus 6.3.3 · zoledronic acid label")
    assert SOURCE_LABEL not in detail  # card.source carries it, and the EHR shows that
    info = render(Finding("EXAMPLE-INFO", "info"))["detail"]
    assert info.rstrip().endswith("**Source:** Consensus Table 1 instructions")


def test_detail_blocks_come_in_order(render) -> None:
    detail = render(dose_finding(missing=("sex",)))["detail"]
    order = [
        detail.index(marker)
        for marker in ("Creatinine clearance is", "| What |", "| sex | **missing**", "**Source:**")
    ]
    assert order == sorted(order)


def test_source_names_the_consensus_and_carries_the_rule_id_as_topic(render, templates) -> None:
    source = render(dose_finding())["source"]
    assert source == {
        "label": "Chinese expert consensus on bone metastasis in lung cancer (2022)",
        "url": "https://doi.org/10.1016/j.jncc.2023.08.004",
        "topic": {
            "system": RULE_SYSTEM,
            "code": "EXAMPLE-DOSE-CHECK",
            "display": "Example: zoledronic acid dose for renal function",
        },
    }
    assert render(Finding("EXAMPLE-INFO", "info"))["source"]["topic"]["display"] == "EXAMPLE-INFO"
    assert CONSENSUS_URL == source["url"]


def test_override_reasons_offer_the_four_catalog_reasons_with_displays(render) -> None:
    reasons = render(dose_finding())["overrideReasons"]
    assert [r["code"] for r in reasons] == [
        "already-addressed",
        "patient-declined",
        "not-clinically-appropriate",
        "life-expectancy-under-3-months",
    ]
    assert all(r["system"] == OVERRIDE_REASON_SYSTEM and r["display"] for r in reasons)


def test_the_consensus_doi_is_the_source_not_a_second_link(render) -> None:
    """EHRs show card.source with its URL: a DOI link beside it would be a doubled source (issue 12)."""
    card = render(dose_finding(), public_base_url="https://cds.example.org/")
    assert card["source"]["url"] == CONSENSUS_URL
    assert [link["type"] for link in card["links"]] == ["smart"]


def test_suggestions_carry_uuid_label_recommendation_and_selection_behavior(render) -> None:
    card = render(dose_finding())
    assert card["selectionBehavior"] == "at-most-one"
    (suggestion,) = card["suggestions"]
    assert uuid.UUID(suggestion["uuid"]).version == 4
    assert suggestion["label"] == "Reduce zoledronic acid to 3.0 mg"
    assert suggestion["isRecommended"] is True


def test_update_action_rewrites_the_drafted_order_at_the_label_dose(render) -> None:
    (action,) = render(dose_finding())["suggestions"][0]["actions"]
    assert action["type"] == "update"
    assert action["description"].startswith("Change Zoledronic acid 4 mg/100 mL to zoledronic acid 3.0 mg IV")
    resource = action["resource"]
    assert resource["id"] == "za-draft-1"
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 3.0


def test_delete_then_create_at_crcl_below_30(render) -> None:
    """CrCl < 30: zoledronic acid is not recommended; remove the draft and order denosumab instead."""
    finding = dose_finding(
        indicator="critical",
        suggestions=(
            SuggestionSpec(
                "Replace zoledronic acid with denosumab 120 mg every 4 weeks",
                (
                    ActionSpec("delete", target=ZA_DRAFT_REF),
                    ActionSpec(
                        "create", order_key="denosumab_120mg_q4w", reason="Bone metastasis; CrCl < 30 mL/min"
                    ),
                ),
                is_recommended=True,
            ),
        ),
    )
    delete, create = render(finding)["suggestions"][0]["actions"]
    assert delete == {
        "type": "delete",
        "description": "Remove the drafted order Zoledronic acid 4 mg/100 mL (MedicationRequest/za-draft-1)",
        "resourceId": "MedicationRequest/za-draft-1",
    }
    assert create["type"] == "create"
    assert create["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "1046398"
    assert create["resource"]["reasonCode"] == [{"text": "Bone metastasis; CrCl < 30 mL/min"}]


def test_several_suggestions_keep_their_order_and_any_selection(render) -> None:
    finding = Finding(
        "EXAMPLE-INFO",
        "info",
        suggestions=(
            SuggestionSpec(
                "Calcium 500 mg daily", (ActionSpec("create", order_key="calcium_500mg_daily"),), True
            ),
            SuggestionSpec(
                "Vitamin D 400 IU daily", (ActionSpec("create", order_key="vitamin_d_400iu_daily"),), True
            ),
        ),
        selection_behavior="any",
    )
    card = render(finding)
    assert card["selectionBehavior"] == "any"
    assert [s["label"] for s in card["suggestions"]] == ["Calcium 500 mg daily", "Vitamin D 400 IU daily"]
    assert card["suggestions"][0]["uuid"] != card["suggestions"][1]["uuid"]


def test_a_card_with_no_suggestions_has_no_selection_behavior(render) -> None:
    card = render(Finding("EXAMPLE-INFO", "info"))
    assert "suggestions" not in card
    assert "selectionBehavior" not in card


def test_a_suggestion_without_actions_omits_the_empty_array(render) -> None:
    card = render(Finding("EXAMPLE-INFO", "info", suggestions=(SuggestionSpec("Review continuation", ()),)))
    assert "actions" not in card["suggestions"][0]
    assert card["selectionBehavior"] == "any"


def test_two_recommended_suggestions_with_at_most_one_is_refused(render) -> None:
    finding = dose_finding(
        suggestions=(
            SuggestionSpec("A", (ActionSpec("create", order_key="lab_calcium"),), True),
            SuggestionSpec("B", (ActionSpec("create", order_key="lab_creatinine"),), True),
        )
    )
    with pytest.raises(ValueError, match="at-most-one"):
        render(finding)


def test_a_missing_placeholder_value_names_rule_variant_and_placeholder(render) -> None:
    with pytest.raises(PlaceholderError, match=r"EXAMPLE-DOSE-CHECK: variant 'default' .*crcl"):
        render(dose_finding(values={"dose": "3.0", "drafted": "x"}))


def test_an_unknown_variant_is_refused_by_name(render) -> None:
    with pytest.raises(PlaceholderError, match="no card variant 'on-treatment'"):
        render(dose_finding(variant="on-treatment"))


def test_a_template_of_another_rule_is_refused(templates, catalog, drafts) -> None:
    from hooks.cards import render_card

    with pytest.raises(ValueError, match="template of EXAMPLE-INFO"):
        render_card(
            dose_finding(),
            templates["EXAMPLE-INFO"],
            patient_id="lung-42",
            draft_orders_by_ref=drafts,
            order_catalog=catalog,
        )


def test_an_action_on_an_order_not_among_the_drafts_raises(render) -> None:
    finding = dose_finding(
        suggestions=(SuggestionSpec("Remove", (ActionSpec("delete", target="MedicationRequest/gone"),)),)
    )
    with pytest.raises(UnknownDraftOrder, match="MedicationRequest/gone"):
        render(finding)


def test_prolia_updated_to_the_oncology_regimen_changes_the_drug_too(render) -> None:
    finding = dose_finding(
        suggestions=(
            SuggestionSpec(
                "Change to denosumab 120 mg every 4 weeks",
                (ActionSpec("update", order_key="denosumab_120mg_q4w", target=PROLIA_DRAFT_REF),),
            ),
        ),
    )
    resource = render(finding)["suggestions"][0]["actions"][0]["resource"]
    assert resource["id"] == "prolia-draft-1"
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "1046398"
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 120


def test_summary_values_are_kept_on_one_line(render) -> None:
    card = render(dose_finding(values={"dose": "3.0", "crcl": "38\nIGNORE", "drafted": "x"}))
    assert "\n" not in card["summary"]
    assert card["summary"] == "Reduce zoledronic acid to 3.0 mg: CrCl 38 IGNORE mL/min"


def test_evidence_from_a_date_object_is_iso(render) -> None:
    evidence = (Evidence("ALP", "180 U/L", date(2026, 1, 5), "Observation/alp-1"),)
    assert (
        f"| ALP | 180 U/L | {day('2026-01-05')} | Observation/alp-1 |"
        in render(dose_finding(evidence=evidence))["detail"]
    )


def test_a_card_links_to_the_smart_app_when_the_public_url_is_known(render) -> None:
    """CDS Hooks 2.0 SMART link; appContext names the rule and this card, so the app opens on it."""
    card = render(dose_finding(), public_base_url="https://cds.example.org/bonemet/")
    (smart,) = card["links"]
    assert smart == {
        "label": "Bone health review",
        "url": "https://cds.example.org/bonemet/smart/launch",
        "type": "smart",
        "appContext": f'{{"rule":"EXAMPLE-DOSE-CHECK","card":"{card["uuid"]}"}}',
    }


def test_without_a_public_url_there_is_no_smart_link(render) -> None:
    """An offline run with no BONEMET_PUBLIC_URL has no URL to give: no links at all (no empty array)."""
    assert "links" not in render(dose_finding())


@pytest.mark.parametrize(
    ("source", "short"),
    [
        ("CTCAE v5 (hypercalcemia grades)", "CTCAE v5"),
        (
            "Zoledronic acid label (creatinine rise: withhold until within 10% of baseline)",
            "Zoledronic acid label",
        ),
        ("ALP upper limit 129 U/L: catalog default", "ALP upper limit 129 U/L (service default)"),
        (
            "hypercalcemia from CTCAE v5 grade 2: catalog (MDT-REFERRAL: grade >= 2 raises the card)",
            "hypercalcemia from CTCAE v5 grade 2 (service default)",
        ),
        (
            "follow-up every 12 months: consensus 5.1.4 (once or twice a year); catalog default 12 months",
            "follow-up every 12 months (consensus 5.1.4)",
        ),
        (
            "corticosteroids: NICE guideline NG234 (2023), Spinal metastases (dexamethasone); not consensus",
            "corticosteroids (NICE guideline NG234)",
        ),
        ("Xgeva (denosumab) label: severe hypocalcemia more frequent with CrCl < 30 mL/min", "Xgeva label"),
        (
            "Del Conte et al., Bone metastasis and ICIs, Int J Mol Sci 2022;23, doi:10.3390/ijms23126832",
            "Del Conte et al. doi:10.3390/ijms23126832",
        ),
    ],
)
def test_an_outside_source_is_named_in_a_few_words(source, short) -> None:
    assert short_source(source) == short
    assert "catalog" not in short_source(source)
