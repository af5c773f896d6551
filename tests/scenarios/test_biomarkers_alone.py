"""RULES.md section 6 and consensus 5.3: bone-turnover markers (NTX, CTX) are exploratory and CXCL12 has
no validated use, so on their own they never lead to a diagnosis or treatment card: no BMA-INITIATION,
no BONE-IMAGING-WORKUP, and a BMA order is still one without confirmed metastasis.

Each patient is an otherwise silent chart (lung cancer, no bone metastasis, normal labs, bone scan
6 months ago) with very high markers added. CXCL12 has no standard code, so the site maps a local one.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from cds_service.app import create_app
from tests.conftest import make_settings
from tests.scenarios.scenario_files import Scenario, hook_request, load_scenarios, rule_ids

LOCAL_LAB = "http://lab.example-hospital.cn/codes"
CXCL12_CODE = "CXCL12-SERUM"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MARKERS = {
    "cxcl12": (LOCAL_LAB, CXCL12_CODE, 5200.0, "pg/mL"),
    "ntx_urine": (LOINC, "14115-0", 180.0, "nmol{BCE}/mmol{creat}"),
    "ntx_serum": (LOINC, "21215-9", 45.0, "nmol{BCE}/L"),
    "ctx": (LOINC, "41171-0", 1.9, "ng/mL"),
}
SILENT_BASE = "pv_last_bone_scan_6_months_ago"
ORDER_BASE = "osel_zoledronic_without_bone_metastasis"


@pytest.fixture(scope="module")
def site_client(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    codes = {"observations": {"cxcl12": {"codes": [{"system": LOCAL_LAB, "code": CXCL12_CODE}]}}}
    (site / "codesets.yaml").write_text(yaml.safe_dump(codes))
    app = create_app(make_settings(tmp_path_factory.mktemp("db"), site_dir=site))
    app.config["TESTING"] = True
    return app.test_client()


def _base(name: str) -> Scenario:
    return next(s for s in load_scenarios() if s.name == name)


def _with_markers(base: Scenario, markers: list[str]) -> Scenario:
    doc = copy.deepcopy(base.doc)
    pid = next(
        e["resource"]["id"] for e in doc["bundle"]["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    for n, marker in enumerate(markers):
        system, code, value, unit = MARKERS[marker]
        doc["bundle"]["entry"].append(
            {"resource": _observation(f"marker{n}", pid, system, code, value, unit, doc["now"])}
        )
    return Scenario(f"{base.name}+{'+'.join(markers)}", doc)


def _observation(
    oid: str, pid: str, system: str, code: str, value: float, unit: str, day: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _cards(client, scenario: Scenario) -> list[dict[str, Any]]:
    response = client.post(f"/cds-services/{scenario.service_id}", json=hook_request(scenario))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def test_the_site_mapping_makes_cxcl12_a_known_observation(site_client):
    """Without this the CXCL12 patients below would prove nothing: the local code must be read."""
    services = {s["id"]: s for s in site_client.get("/cds-services").get_json()["services"]}
    assert CXCL12_CODE in services["bonemet-patient-view"]["prefetch"]["observations"]


def test_the_base_chart_is_silent(site_client):
    assert _cards(site_client, _base(SILENT_BASE)) == []


@pytest.mark.parametrize(
    "markers",
    [["cxcl12"], ["ntx_urine"], ["ntx_serum"], ["ctx"], ["cxcl12", "ntx_urine", "ntx_serum", "ctx"]],
)
def test_high_markers_alone_produce_no_card(site_client, markers):
    """Lung cancer without bone metastasis, markers far above any reference: still no card at all."""
    assert rule_ids(_cards(site_client, _with_markers(_base(SILENT_BASE), markers))) == []


@pytest.mark.parametrize("markers", [["cxcl12"], ["ntx_urine", "ctx"]])
def test_markers_do_not_stand_in_for_confirmed_metastasis_in_an_order(site_client, markers):
    """Zoledronic acid ordered on high markers alone is still 'not for risk alone' (Table 1)."""
    cards = _cards(site_client, _with_markers(_base(ORDER_BASE), markers))
    assert rule_ids(cards) == ["BMA-WITHOUT-CONFIRMED-METASTASIS"]
