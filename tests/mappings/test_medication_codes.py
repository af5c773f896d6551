"""Drug orders recognised at every coding level and through every kind of medicationReference
(RULES.md 7.1.3), with their regimen, family, dose and interval read the way the rules need them.

Reason for the rule: a zoledronic acid order coded at product level was invisible, so a second BMA was
offered. Every test here is one way a real EHR writes an order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from cds_service.prefetch import resolve
from fhir_mappings.build_facts import build_facts
from fhir_mappings.codesets import load_codesets
from fhir_mappings.errors import CodesetConfigError
from fhir_mappings.medications import build_medications
from fhir_mappings.prefetch_queries import prefetch_templates
from fhir_mappings.thresholds import Thresholds
from tests.mappings.fhir_builders import PID, chart, patient

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
CODES = load_codesets()
T = Thresholds.load()
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def order(
    code: str | None = None,
    system: str = RXNORM,
    *,
    rid: str = "mr1",
    dose: float | None = None,
    unit: str = "mg",
    period: Any = None,
    period_unit: Any = None,
    frequency: Any = 1,
    text: str | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{PID}"},
        "authoredOn": "2026-10-01",
    }
    if code is not None:
        concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
        if text:
            concept["text"] = text
        resource["medicationCodeableConcept"] = concept
    dosage: dict[str, Any] = {}
    if dose is not None:
        dosage["doseAndRate"] = [
            {"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}
        ]
    if period is not None or period_unit is not None:
        dosage["timing"] = {"repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}}
    if dosage:
        resource["dosageInstruction"] = [dosage]
    return resource


def medication(mid: str, code: str, system: str = RXNORM, ingredient: tuple[str, str] | None = None):
    resource: dict[str, Any] = {
        "resourceType": "Medication",
        "id": mid,
        "code": {"coding": [{"system": system, "code": code}]},
    }
    if ingredient is not None:
        resource["ingredient"] = [
            {"itemCodeableConcept": {"coding": [{"system": ingredient[0], "code": ingredient[1]}]}}
        ]
    return resource


def one(resource: dict[str, Any], medications: dict[str, dict[str, Any]] | None = None, *, drafts=False):
    facts, issues = build_medications([resource], CODES, medications or {}, drafts=drafts, thresholds=T)
    assert issues == []
    assert len(facts) == 1, f"expected one medication fact, got {facts}"
    return facts[0]


def none_from(resource: dict[str, Any], medications: dict[str, dict[str, Any]] | None = None):
    facts, _ = build_medications([resource], CODES, medications or {}, thresholds=T)
    return facts


# --- coding levels -----------------------------------------------------------------------------------


def test_zoledronic_acid_coded_as_a_clinical_drug_is_the_oncology_product():
    """RxNorm SCD of the 4 mg/5 mL vial, no ingredient coding, no dose: recognised, oncology by product."""
    fact = one(order("351114"))
    assert (fact.agent, fact.agent_class, fact.family) == ("zoledronic_acid", "bma", "bisphosphonate")
    assert (fact.product, fact.regimen) == ("zometa", "oncology")
    assert fact.display == "zoledronic acid 4 mg/5 mL injection"


def test_zoledronic_acid_5mg_clinical_drug_is_the_osteoporosis_product():
    fact = one(order("705824", dose=4))  # product code decides before the typed dose
    assert (fact.agent, fact.regimen, fact.product) == ("zoledronic_acid", "osteoporosis", "reclast")


def test_xgeva_coded_at_product_level_without_a_dose_is_oncology():
    fact = one(order("1046398"))
    assert (fact.agent, fact.product, fact.regimen, fact.family) == (
        "denosumab",
        "xgeva",
        "oncology",
        "denosumab",
    )


def test_prolia_product_code_wins_over_a_typed_120mg_dose():
    fact = one(order("993456", dose=120, period=4, period_unit="wk"))
    assert (fact.product, fact.regimen, fact.dose_mg) == ("prolia", "osteoporosis", 120)


def test_a_denosumab_biosimilar_product_code_is_recognised():
    assert one(order("2715513")).regimen == "osteoporosis"  # Jubbonti 60 mg/mL
    assert one(order("2717866")).regimen == "oncology"  # denosumab-bmwo 120 mg/1.7 mL


def test_denosumab_by_ingredient_reads_the_regimen_from_the_dose():
    assert (one(order("M05BX04", ATC, dose=120)).product, one(order("M05BX04", ATC, dose=120)).regimen) == (
        "xgeva",
        "oncology",
    )
    low = one(order("M05BX04", ATC, dose=60, period=6, period_unit="mo"))
    assert (low.product, low.regimen) == ("prolia", "osteoporosis")


def test_denosumab_without_dose_or_interval_is_unknown_and_has_no_product():
    fact = one(order("M05BX04", ATC))
    assert (fact.product, fact.regimen) == (None, "unknown")


def test_atc_coded_orders_from_a_chinese_hospital():
    za = one(order("M05BA08", ATC, dose=4, period=4, period_unit="wk"))
    assert (za.agent, za.regimen, za.display) == ("zoledronic_acid", "oncology", "zoledronic acid")
    alendronate = one(order("M05BA04", ATC, dose=70, period=1, period_unit="wk"))
    assert (alendronate.agent, alendronate.family, alendronate.regimen) == (
        "alendronate",
        "bisphosphonate",
        "osteoporosis",
    )
    pamidronate = one(order("M05BA03", ATC, dose=90, period=4, period_unit="wk"))
    assert (pamidronate.agent, pamidronate.agent_class, pamidronate.regimen) == (
        "pamidronate",
        "bma",
        "oncology",
    )
    assert one(order("M05BA07", ATC)).regimen == "osteoporosis"  # risedronate, nothing else stated


def test_ibandronate_monthly_tablet_product_is_osteoporosis():
    fact = one(order("904932"))
    assert (fact.agent, fact.regimen) == ("ibandronate", "osteoporosis")


def test_non_bma_agents_have_no_regimen_or_family():
    ici = one(order("L01FF02", ATC))
    assert (ici.agent_class, ici.regimen, ici.family) == ("ici", None, None)


def test_a_stopped_supplement_is_not_read_but_a_stopped_bma_is():
    stopped_calcium = {**order("308907"), "status": "stopped"}
    stopped_za = {**order("351114"), "status": "stopped"}
    assert none_from(stopped_calcium) == []
    assert one(stopped_za).status == "stopped"


# --- names shown on cards ----------------------------------------------------------------------------


def test_display_names_the_drug_never_the_internal_class():
    assert one(order("L01FF01", ATC)).display == "nivolumab"
    assert one(order("1657746")).display == "Keytruda (pembrolizumab 100 mg/4 mL)"
    assert one(order("A11CC04", ATC)).display == "calcitriol"
    assert one(order("M05BA03", ATC)).display == "pamidronate"


def test_the_charts_own_wording_comes_first():
    assert one(order("351114", text="Zometa 4 mg IV")).display == "Zometa 4 mg IV"


def test_an_atc_group_member_without_its_own_name_falls_back_to_a_readable_class():
    """L01FF17 is not (yet) in the WHO list: the prefix still recognises it, named as the drug class."""
    assert one(order("L01FF99", ATC)).display == "immune checkpoint inhibitor"


# --- medicationReference -------------------------------------------------------------------------------


def referencing(reference: str, **kw: Any) -> dict[str, Any]:
    resource = order(**kw)
    resource["medicationReference"] = {"reference": reference}
    return resource


def test_a_contained_medication_is_read_like_a_codeable_concept():
    resource = referencing("#za")
    resource["contained"] = [medication("za", "351114")]
    fact = one(resource)
    assert (fact.agent, fact.regimen) == ("zoledronic_acid", "oncology")


def test_a_contained_medication_with_a_local_code_is_read_through_its_ingredient():
    resource = referencing("#m", dose=4)
    resource["contained"] = [medication("m", "YP0042", "urn:hospital:drug", ingredient=(RXNORM, "77655"))]
    fact = one(resource)
    assert (fact.agent, fact.regimen) == ("zoledronic_acid", "oncology")


def test_a_medication_read_through_its_ingredient_keeps_the_charts_product_name():
    resource = referencing("#m", dose=4)
    local = medication("m", "YP0042", "urn:hospital:drug", ingredient=(ATC, "M05BA08"))
    local["code"]["text"] = "唑来膦酸注射液 4mg/5ml"
    resource["contained"] = [local]
    assert one(resource).display == "唑来膦酸注射液 4mg/5ml"
    del local["code"]["text"]
    assert one(resource).display == "zoledronic acid"  # the code set's name of the ingredient code


def test_a_bundled_medication_is_found_by_relative_absolute_and_versioned_reference():
    bundled = {"Medication/xg": medication("xg", "1046398")}
    for ref in (
        "Medication/xg",
        "https://ehr.example.org/fhir/Medication/xg",
        "Medication/xg/_history/3",
    ):
        fact = one(referencing(ref), bundled)
        assert (fact.agent, fact.product) == ("denosumab", "xgeva"), ref


def test_a_reference_to_a_medication_that_is_not_there_is_not_guessed():
    assert none_from(referencing("Medication/absent")) == []
    assert none_from(referencing("#missing")) == []
    assert none_from(referencing("Substance/xg"), {"Medication/xg": medication("xg", "1046398")}) == []


def test_a_draft_bundle_may_carry_the_medication_its_order_references():
    draft = {**referencing("Medication/d-za", dose=4), "status": "draft"}
    facts, _ = build_medications(
        [draft, medication("d-za", "M05BA08", ATC)], CODES, {}, drafts=True, thresholds=T
    )
    assert [(f.agent, f.is_draft, f.regimen) for f in facts] == [("zoledronic_acid", True, "oncology")]


def test_the_medications_prefetch_key_may_carry_medication_entries():
    """An EHR answering the `_include` query (or sending its own Bundle) puts the Medications under the
    `medications` key; they reach the facts and the order is recognised."""
    mr = referencing("Medication/za-p", dose=4, period=4, period_unit="wk")
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": mr, "search": {"mode": "match"}},
            {"resource": medication("za-p", "351114"), "search": {"mode": "include"}},
        ],
    }
    templates = prefetch_templates(CODES)
    body = {"prefetch": {"patient": patient(), "medications": bundle}, "context": {"patientId": PID}}
    resolved = resolve({"patient": templates["patient"], "medications": templates["medications"]}, body, None)
    assert [m["id"] for m in resolved.by_type["Medication"]] == ["za-p"]
    facts = build_facts(
        PID, resolved.by_type, hook="patient-view", now=NOW, draft_orders=None, codesets=CODES, thresholds=T
    )
    assert [(m.agent, m.regimen) for m in facts.medications] == [("zoledronic_acid", "oncology")]


def test_the_medications_prefetch_template_includes_referenced_medications():
    assert prefetch_templates(CODES)["medications"].endswith("&_include=MedicationRequest:medication")


# --- dosage ------------------------------------------------------------------------------------------


def test_a_period_unit_that_is_not_a_string_is_unreadable_not_an_error():
    """Draft orders are read without schema validation (the EHR is still composing them): an object or a
    list where the unit belongs used to raise TypeError and lose the whole call."""
    for unit in ({}, [], ["wk"], 4, None, True):
        draft = {**order("351114", period=4, period_unit=unit), "status": "draft"}
        fact = one(draft, drafts=True)
        assert fact.interval_days is None, unit


def test_a_chart_order_with_a_malformed_period_unit_is_reported_not_dropped_silently():
    facts, issues = build_medications([order("351114", period=4, period_unit={})], CODES, {}, thresholds=T)
    assert facts == []
    assert [(i.analyte, i.reference) for i in issues] == [("zoledronic_acid", "MedicationRequest/mr1")]


def test_malformed_frequency_or_period_is_unreadable():
    def draft(**kw):
        return one({**order("351114", **kw), "status": "draft"}, drafts=True)

    assert draft(period=4, period_unit="wk", frequency=True).interval_days is None
    assert draft(period="4", period_unit="wk").interval_days is None
    assert draft(period=4, period_unit="wk", frequency=0).interval_days is None


def test_intervals_are_read_in_days():
    assert one(order("351114", period=4, period_unit="wk")).interval_days == 28
    assert one(order("M05BX04", ATC, period=6, period_unit="mo")).interval_days == 182.621
    assert one(order("308907", period=1, period_unit="d", frequency=2)).interval_days == 0.5


def test_an_iu_dose_is_read_as_iu_not_lost():
    for unit in ("[iU]", "[IU]", "IU"):
        fact = one(order("A11CC05", ATC, dose=1000, unit=unit, period=1, period_unit="d"))
        assert (fact.dose_iu, fact.dose_mg) == (1000, None), unit


def test_a_mass_dose_is_converted_to_mg():
    assert one(order("A11CC05", ATC, dose=25, unit="ug")).dose_mg == 0.025
    assert one(order("308907", dose=1.25, unit="g")).dose_mg == 1250


def test_the_stated_end_of_an_order_is_read():
    resource = order("351114")
    resource["dosageInstruction"] = [
        {"timing": {"repeat": {"boundsPeriod": {"start": "2026-01-05", "end": "2026-07-05"}}}}
    ]
    fact = one(resource)
    assert (fact.start, fact.end) == (date(2026, 1, 5), date(2026, 7, 5))


def test_site_product_codes_join_the_product_and_its_regimen(tmp_path):
    (tmp_path / "codesets.yaml").write_text(
        "medications:\n"
        "  zoledronic_acid:\n"
        "    codes: []\n"
        "    products:\n"
        "      zometa:\n"
        "        codes: [{system: 'urn:hospital:drug', code: 'ZOL4'}]\n",
        encoding="utf-8",
    )
    site = load_codesets(tmp_path)
    facts, _ = build_medications([order("ZOL4", "urn:hospital:drug")], site, {}, thresholds=T)
    assert [(f.agent, f.product, f.regimen) for f in facts] == [("zoledronic_acid", "zometa", "oncology")]


def test_build_facts_reads_medications_with_the_site_thresholds():
    facts = build_facts(
        PID,
        chart(patient(), order("M05BX04", ATC, dose=120, period=4, period_unit="wk")),
        hook="patient-view",
        now=NOW,
        draft_orders=None,
        codesets=CODES,
        thresholds=T,
    )
    assert [(m.agent, m.regimen) for m in facts.medications] == [("denosumab", "oncology")]


def test_a_site_product_written_as_a_bare_code_list_recognises_the_agent_without_a_regimen(tmp_path):
    """The earlier code-set shape (`products: {name: [codes]}`) still loads: the codes name the agent and the
    product, and the regimen then comes from the dose."""
    (tmp_path / "codesets.yaml").write_text(
        "medications:\n"
        "  denosumab:\n"
        "    codes: []\n"
        "    products:\n"
        "      local_pack: [{system: 'urn:hospital:drug', code: 'DMB'}]\n",
        encoding="utf-8",
    )
    site = load_codesets(tmp_path)
    facts, _ = build_medications([order("DMB", "urn:hospital:drug", dose=60)], site, {}, thresholds=T)
    assert [(f.agent, f.product, f.regimen) for f in facts] == [("denosumab", "local_pack", "osteoporosis")]


def test_a_product_regimen_other_than_oncology_or_osteoporosis_stops_start_up(tmp_path):
    (tmp_path / "codesets.yaml").write_text(
        "medications:\n"
        "  zoledronic_acid:\n"
        "    codes: []\n"
        "    products:\n"
        "      zometa: {regimen: palliative, codes: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(CodesetConfigError, match="regimen must be one of"):
        load_codesets(tmp_path)


@pytest.mark.parametrize("code", ["993449", "115264", "1897", "2418", "1547545", "1597876"])
def test_unsourced_rxnorm_ingredient_codes_are_not_defaults(code):
    """Issue 10: a code with no citable source stays out of the defaults (docs/terminology.md,
    Medications); a site that uses one adds it in its own codesets.yaml."""
    assert none_from(order(code, dose=120, period=4, period_unit="wk")) == []


@pytest.mark.parametrize(
    ("key", "agent"),
    [
        ("denosumab_120mg_q4w", "denosumab"),
        ("calcium_500mg_daily", "calcium_supplement"),
        ("vitamin_d_400iu_daily", "vitamin_d"),
    ],
)
def test_every_suggested_order_is_recognised_by_the_shipped_code_sets(key, agent):
    """An accepted suggestion must read back as the drug it orders, or the card that suggested it
    (BMA-INITIATION, CALCIUM-VITAMIN-D) would fire again on the next call."""
    from hooks.order_catalog import load_order_catalog
    from hooks.orders import medication_request

    resource = medication_request(load_order_catalog().medications[key], patient_id=PID)
    fact = one({**resource, "id": "mr1", "status": "active"})
    assert fact.agent == agent
    if agent == "denosumab":
        assert (fact.product, fact.regimen) == ("xgeva", "oncology")


def test_an_order_still_coded_with_a_dropped_ingredient_code_is_listed_for_unmapped_codes():
    """Not silent: an Xgeva order sent as RxNorm 993449 alone is named in text, so UNMAPPED-CODES lists it."""
    resource = order("993449", dose=120, period=4, period_unit="wk", text="Xgeva (denosumab) 120 mg")
    facts = build_facts(
        PID,
        chart(patient(), resource),
        hook="patient-view",
        now=NOW,
        draft_orders=None,
        codesets=CODES,
        thresholds=T,
    )
    assert facts.medications == ()
    assert [(u.concept, u.reference) for u in facts.unmapped] == [("bma", "MedicationRequest/mr1")]
