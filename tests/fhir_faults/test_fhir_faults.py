"""The EHR's FHIR server fails in every way seen in practice; the clinician still gets an answer the
service can justify. Either 412 with the reason (the patient or the conditions could not be had), or the
cards that did not need the missing data plus a DATA-UNAVAILABLE card naming what was not checked. Each
fault is logged, and no log line carries the access token or the patient id.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
import requests

from hooks.rule_registry import get_rule
from tests.fhir_faults.conftest import (
    FHIR_BASE,
    MAX_PAGES,
    FakeEhr,
    answering,
    read_url,
    search_url,
)
from tests.fhir_server_mode.chart import (
    ACCESS_TOKEN,
    comparable,
    hook_body,
    observation,
    prefetch_for,
    rule_ids,
    searchset,
)

URL = "/cds-services/bonemet-patient-view"
NOTICES = {"DATA-UNAVAILABLE", "DATA-QUALITY"}
HANG_SECONDS = 30.0


@pytest.fixture(autouse=True)
def _logs(caplog):
    caplog.set_level(logging.DEBUG)


def call(app, ehr, server=FHIR_BASE):
    started = time.monotonic()
    response = app.test_client().post(URL, json=hook_body(ehr.pid, server=server))
    return response, time.monotonic() - started


def baseline(app, ehr):
    """The cards for the same chart when the EHR prefetches everything."""
    body = hook_body(ehr.pid, server=None, prefetch=prefetch_for(app.extensions["bonemet"], ehr.resources))
    response = app.test_client().post(URL, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def clinical_rules_not_needing(cards, resource_type):
    return [r for r in rule_ids(cards) if r not in NOTICES and resource_type not in get_rule(r).needs]


def assert_unavailable(app, ehr, cards, resource_type):
    """The rules that needed `resource_type` were not run and the notice says so; the others ran."""
    notice = next(c for c in cards if c["source"]["topic"]["code"] == "DATA-UNAVAILABLE")
    assert resource_type in notice["summary"]
    assert "ZA-RENAL-DOSING" in notice["detail"] and "ZA-RENAL-DOSING" not in rule_ids(cards)
    expected = clinical_rules_not_needing(baseline(app, ehr), resource_type)
    assert [r for r in rule_ids(cards) if r not in NOTICES] == expected


def assert_logged(caplog, ehr, reason):
    assert reason in caplog.text
    assert ACCESS_TOKEN not in caplog.text
    assert ehr.pid not in caplog.text


def templates(app):
    return app.extensions["bonemet"].prefetch_templates


def test_a_healthy_server_gives_the_prefetch_cards_and_receives_the_token(fault_app, mock):
    """Control for every fault below: with nothing wrong, the cards equal the prefetch cards."""
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app))
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert comparable(response.get_json()["cards"]) == comparable(baseline(app, ehr))
    assert "ZA-RENAL-DOSING" in rule_ids(response.get_json()["cards"])
    assert {c.request.headers["Authorization"] for c in mock.calls} == {f"Bearer {ACCESS_TOKEN}"}


@pytest.fixture
def released():
    """Set at teardown, so a hung fake answer never outlives its test."""
    event = threading.Event()
    yield event
    event.set()


def test_a_server_slower_than_the_deadline_does_not_hold_the_call(fault_app, mock, caplog, released):
    """Observations would take 30 s against a 1 s deadline: the call is answered long before that (the
    margin is seconds, so a busy machine cannot fail it), without the observation checks."""

    def slow(request):
        released.wait(HANG_SECONDS)
        return answering([])(request)

    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(
        templates(app), {"Observation": lambda: mock.add_callback("GET", search_url("Observation"), slow)}
    )
    response, _ = call(app, ehr)  # held to the end, the server would answer in full (the cards below)
    assert response.status_code == 200
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "deadline exceeded")


def test_a_socket_timeout_is_reported_without_the_url(fault_app, mock, caplog):
    """requests' timeout message quotes the URL (with the patient id); the log says only 'timed out'."""
    app, ehr = fault_app(), FakeEhr(mock)
    timeout = requests.ReadTimeout(f"Read timed out: {FHIR_BASE}/Observation?patient={ehr.pid}")
    ehr.serve(templates(app), {"Observation": lambda: mock.get(search_url("Observation"), body=timeout)})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "timed out")


def test_a_5xx_on_observations_skips_only_the_checks_that_need_them(fault_app, mock, caplog):
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app), {"Observation": lambda: mock.get(search_url("Observation"), status=503)})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "HTTP 503")


def test_a_5xx_on_the_patient_is_412_with_the_reason(fault_app, mock, caplog):
    """Without the Patient (age, sex) no rule can decide: 412 naming what was missing, never no cards."""
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app), {"Patient": lambda: mock.get(read_url("Patient", ehr.pid), status=500)})
    response, _ = call(app, ehr)
    assert response.status_code == 412
    assert "Patient" in response.get_json()["message"] and "HTTP 500" in response.get_json()["message"]
    assert_logged(caplog, ehr, "HTTP 500")


def test_429_with_a_short_retry_after_is_retried_once(fault_app, mock):
    """Throttled once with Retry-After: 0, the service retries and the cards are complete."""
    app, ehr = fault_app(), FakeEhr(mock)

    def throttled_then_ok():
        mock.get(search_url("Observation"), status=429, headers={"Retry-After": "0"})
        mock.add_callback(
            "GET",
            search_url("Observation"),
            answering([r for r in ehr.resources if r["resourceType"] == "Observation"]),
        )

    ehr.serve(templates(app), {"Observation": throttled_then_ok})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert comparable(response.get_json()["cards"]) == comparable(baseline(app, ehr))
    assert ehr.calls_to(f"{FHIR_BASE}/Observation?") == 2


def test_429_with_a_retry_after_beyond_the_deadline_is_not_waited_for(fault_app, mock, caplog):
    """Retry-After: 120 against a 1 s deadline: not waited for, not retried."""
    app, ehr = fault_app(), FakeEhr(mock)
    throttled = lambda: mock.get(search_url("Observation"), status=429, headers={"Retry-After": "120"})  # noqa: E731
    ehr.serve(templates(app), {"Observation": throttled})
    response, _ = call(app, ehr)
    assert ehr.calls_to(f"{FHIR_BASE}/Observation?") == 1  # waited out, it would have been asked again
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "Retry-After exceeds the deadline")


def test_malformed_json_is_unavailable_data(fault_app, mock, caplog):
    app, ehr = fault_app(), FakeEhr(mock)
    broken = lambda: mock.get(search_url("Observation"), body='{"resourceType": "Bundle", "entry": [')  # noqa: E731
    ehr.serve(templates(app), {"Observation": broken})
    response, _ = call(app, ehr)
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "not valid JSON")


def test_a_search_answered_with_another_resource_type_is_not_trusted(fault_app, mock, caplog):
    """The Observation search returns Conditions: the server answered some other query; nothing from
    that answer is used."""
    app, ehr = fault_app(), FakeEhr(mock)
    conditions = [r for r in ehr.resources if r["resourceType"] == "Condition"]
    wrong = lambda: mock.add_callback("GET", search_url("Observation"), answering(conditions))  # noqa: E731
    ehr.serve(templates(app), {"Observation": wrong})
    response, _ = call(app, ehr)
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "Observation search answered with Condition resources")


def test_a_patient_read_answered_with_another_type_is_412(fault_app, mock, caplog):
    app, ehr = fault_app(), FakeEhr(mock)
    wrong = lambda: mock.get(read_url("Patient", ehr.pid), json=ehr.resources[1])  # noqa: E731
    ehr.serve(templates(app), {"Patient": wrong})
    response, _ = call(app, ehr)
    assert response.status_code == 412
    assert_logged(caplog, ehr, "unexpected resource type Condition")


def test_a_patient_read_answered_with_another_patient_is_412(fault_app, mock, caplog):
    """Asked for her record, the server returns someone else's: no card may be built on it."""
    app, ehr = fault_app(), FakeEhr(mock)
    other = {
        "resourceType": "Patient",
        "id": "someone-else-4711",
        "gender": "male",
        "birthDate": "1990-01-01",
    }
    ehr.serve(templates(app), {"Patient": lambda: mock.get(read_url("Patient", ehr.pid), json=other)})
    response, _ = call(app, ehr)
    assert response.status_code == 412
    assert "answered with another Patient" in response.get_json()["message"]
    assert_logged(caplog, ehr, "answered with another Patient")
    assert "someone-else-4711" not in caplog.text


def test_another_patients_results_are_dropped_and_reported(fault_app, mock, caplog):
    """The server mixes in a newer creatinine of 5.0 mg/dL belonging to someone else. Used, it would make
    the renal card critical; it is dropped, the card stays as for her own data, and the mix-up is shown
    on a DATA-QUALITY card and logged."""
    app, ehr = fault_app(), FakeEhr(mock)
    other = "someone-else-4711"
    foreign = observation(other, "foreign-cr", "2160-0", 5.0, "mg/dL", 0)
    mine = [r for r in ehr.resources if r["resourceType"] == "Observation"]
    mixed = lambda: mock.add_callback("GET", search_url("Observation"), answering([*mine, foreign]))  # noqa: E731
    ehr.serve(templates(app), {"Observation": mixed})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    cards = {c["source"]["topic"]["code"]: c for c in response.get_json()["cards"]}
    expected = {c["source"]["topic"]["code"]: c for c in baseline(app, ehr)}
    assert comparable(cards["ZA-RENAL-DOSING"]) == comparable(expected["ZA-RENAL-DOSING"])
    assert "Observation/foreign-cr" in cards["DATA-QUALITY"]["detail"]
    assert_logged(caplog, ehr, "1 resources of another patient")
    assert other not in caplog.text


def test_endless_next_links_stop_at_the_page_cap(fault_app, mock, caplog):
    """Every page links to one more: the service reads BONEMET_FHIR_MAX_PAGES pages, then gives up on
    the observations instead of looping or deciding on a part."""
    app, ehr = fault_app(), FakeEhr(mock)
    pages = iter(range(1, 1000))

    def endless(request):
        return answering([], next_url=f"{FHIR_BASE}/Observation?page={next(pages)}")(request)

    ehr.serve(
        templates(app), {"Observation": lambda: mock.add_callback("GET", search_url("Observation"), endless)}
    )
    response, _ = call(app, ehr)
    assert ehr.calls_to(f"{FHIR_BASE}/Observation?") == MAX_PAGES
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, f"more than {MAX_PAGES} pages")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.test/R4/Observation?page=2",
        "http://fhir.test/R4/Observation?page=2",
        "file:///etc/passwd",
    ],
    ids=["other-host", "downgrade-to-http", "file-scheme"],
)
def test_a_next_link_off_the_origin_is_not_followed(fault_app, mock, caplog, next_url):
    app, ehr = fault_app(), FakeEhr(mock)
    first = lambda: mock.add_callback("GET", search_url("Observation"), answering([], next_url))  # noqa: E731
    ehr.serve(templates(app), {"Observation": first})
    if next_url.startswith("http"):
        mock.get(next_url, json=searchset([]))
    response, _ = call(app, ehr)
    assert not any(not c.request.url.startswith(FHIR_BASE + "/") for c in mock.calls)
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "next link points to another server")


def test_a_redirect_to_another_host_is_not_followed(fault_app, mock, caplog):
    app, ehr = fault_app(), FakeEhr(mock)
    target = "https://evil.test/R4/Observation"
    moved = lambda: mock.get(search_url("Observation"), status=302, headers={"Location": target})  # noqa: E731
    ehr.serve(templates(app), {"Observation": moved})
    mock.get(target, json=searchset([]))
    response, _ = call(app, ehr)
    assert ehr.calls_to("https://evil.test") == 0
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "redirects are not followed")


def test_a_response_over_the_size_cap_is_refused(fault_app, mock, caplog):
    app, ehr = fault_app(), FakeEhr(mock)
    app.extensions["bonemet"].fhir_client.max_bytes = 50_000
    padded = searchset([r for r in ehr.resources if r["resourceType"] == "Observation"])
    padded["meta"] = {"tag": [{"code": "x" * 60_000}]}
    ehr.serve(templates(app), {"Observation": lambda: mock.get(search_url("Observation"), json=padded)})
    response, _ = call(app, ehr)
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "larger than the size limit")


@pytest.mark.parametrize("server", ["file:///etc/passwd", "ftp://fhir.test/R4", "gopher://fhir.test/R4"])
def test_non_http_fhir_servers_are_refused_before_any_connection(fault_app, mock, server):
    """The request schema admits only http(s) fhirServer URLs: 400 naming the field, nothing contacted."""
    app, ehr = fault_app(), FakeEhr(mock)
    response, _ = call(app, ehr, server=server)
    assert response.status_code == 400
    assert "fhirServer" in json.dumps(response.get_json())
    assert len(mock.calls) == 0


@pytest.mark.parametrize(
    "server",
    [
        "http://10.1.2.3/fhir",
        "http://127.0.0.1:8080/fhir",
        "http://[::1]/fhir",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/fhir",
        "https://user:secret@fhir.test/R4",
    ],
)
def test_servers_not_on_the_allow_list_are_412_and_never_contacted(fault_app, mock, caplog, server):
    """Private and loopback addresses, cloud metadata, and the allowed host with credentials in the URL:
    refused with 412, and not one request is made."""
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app))
    response, _ = call(app, ehr, server=server)
    assert response.status_code == 412
    assert response.get_json()["error"] == "fhir-server-not-allowed"
    assert len(mock.calls) == 0
    assert "fhir-server-not-allowed" in caplog.text and "secret" not in caplog.text


def test_a_response_nested_too_deep_is_unavailable_data(fault_app, mock, caplog):
    """The request's depth limit (BONEMET_MAX_JSON_DEPTH) applies to FHIR responses too: parsed once, checked
    once, so no reader further on meets a 1,000-level Observation."""
    app, ehr = fault_app(), FakeEhr(mock)
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    body = '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ' + deep + "}]}"
    ehr.serve(templates(app), {"Observation": lambda: mock.get(search_url("Observation"), body=body)})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "nested deeper than 64 levels")


def test_a_search_with_more_resources_than_the_cap_is_unavailable_data(fault_app, mock, caplog):
    """BONEMET_MAX_RESOURCES_PER_CALL bounds fetched data too; a result cut short is a failure."""
    app, ehr = fault_app(max_resources_per_call=100), FakeEhr(mock)
    many = [observation(ehr.pid, f"o{i}", "2160-0", 1.0, "mg/dL", 400 + i) for i in range(101)]
    many_answer = lambda: mock.add_callback("GET", search_url("Observation"), answering(many))  # noqa: E731
    ehr.serve(templates(app), {"Observation": many_answer})
    response, _ = call(app, ehr)
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "more than 100 resources")


def test_a_searchset_without_a_self_link_is_unavailable_by_default(fault_app, mock, caplog):
    """Without a `self` link nobody can tell which parameters the server applied (FHIR R4 says it SHALL
    return them): the observations are not used, and the notice says the checks were not done."""
    app, ehr = fault_app(), FakeEhr(mock)
    mine = [r for r in ehr.resources if r["resourceType"] == "Observation"]
    unlinked = lambda: mock.get(search_url("Observation"), json=searchset(mine))  # noqa: E731
    ehr.serve(templates(app), {"Observation": unlinked})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert_unavailable(app, ehr, response.get_json()["cards"], "Observation")
    assert_logged(caplog, ehr, "searchset has no self link")


def test_a_site_may_accept_searchsets_without_a_self_link(fault_app, mock):
    """BONEMET_FHIR_REQUIRE_SELF_LINK=false, for a server known to omit the link: the cards are complete."""
    app, ehr = fault_app(fhir_require_self_link=False), FakeEhr(mock)
    mine = [r for r in ehr.resources if r["resourceType"] == "Observation"]
    unlinked = lambda: mock.get(search_url("Observation"), json=searchset(mine))  # noqa: E731
    ehr.serve(templates(app), {"Observation": unlinked})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert comparable(response.get_json()["cards"]) == comparable(baseline(app, ehr))


def test_search_values_are_sent_percent_encoded(fault_app, mock):
    """No `//` (nor `|` or `:`) of a code system reaches the wire unencoded, where a proxy could alter it;
    commas stay, they separate a parameter's values."""
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app))
    call(app, ehr)
    (sent,) = [c.request.url for c in mock.calls if "/Observation?" in c.request.url]
    query = sent.split("?", 1)[1]
    assert "//" not in query and "|" not in query
    assert "code=http%3A%2F%2Floinc.org%7C" in query and ",http%3A%2F%2Floinc.org%7C" in query


def _answer_json(url: str, document: dict):
    """A callback answering `url` with `document`, carrying a `self` link that echoes the request."""

    def answer(request):
        return 200, {}, json.dumps({**document, "link": [{"relation": "self", "url": request.url}]})

    return lambda mock: mock.add_callback("GET", url, answer)


@pytest.mark.parametrize("entry", [0, "x", {}, [0], [{"resource": "x"}]], ids=str)
def test_a_conditions_searchset_with_unreadable_entries_is_a_412_not_no_cards(fault_app, mock, entry):
    """Issue 11, 1, read from a FHIR server: an `entry` that cannot be read is not "no Conditions"."""
    app, ehr = fault_app(), FakeEhr(mock)
    broken = _answer_json(
        search_url("Condition"), {"resourceType": "Bundle", "type": "searchset", "entry": entry}
    )
    ehr.serve(templates(app), {"Condition": lambda: broken(mock)})
    response, _ = call(app, ehr)
    assert response.status_code == 412, response.get_json()
    assert "Condition" in response.get_json()["message"]


def test_a_conditions_search_holding_only_a_fatal_outcome_is_a_412_not_no_cards(fault_app, mock, caplog):
    """A server that gave up (`too-costly`) answered nothing about the conditions: never an empty list."""
    app, ehr = fault_app(), FakeEhr(mock)
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "fatal", "code": "too-costly"}]}
    searchset_ = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": outcome}]}
    broken = _answer_json(search_url("Condition"), searchset_)
    ehr.serve(templates(app), {"Condition": lambda: broken(mock)})
    response, _ = call(app, ehr)
    assert response.status_code == 412, response.get_json()
    assert_logged(caplog, ehr, "too-costly")


def test_a_warning_outcome_beside_the_conditions_changes_nothing(fault_app, mock):
    """The other side: servers add information and warning outcomes to good answers."""
    app, ehr = fault_app(), FakeEhr(mock)
    mine = [r for r in ehr.resources if r["resourceType"] == "Condition"]
    note = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "informational"}]}
    document = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in mine]
        + [{"resource": note, "search": {"mode": "outcome"}}],
    }
    good = _answer_json(search_url("Condition"), document)
    ehr.serve(templates(app), {"Condition": lambda: good(mock)})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert comparable(response.get_json()["cards"]) == comparable(baseline(app, ehr))


def test_an_included_medication_is_read_but_an_unasked_type_still_fails(fault_app, mock):
    """`_include=MedicationRequest:medication` brings Medications as `include` entries: the zoledronic acid
    order coded only through its Medication is recognised; a Medication passed off as a match is not."""
    app, ehr = fault_app(), FakeEhr(mock)
    order = next(r for r in ehr.resources if r["resourceType"] == "MedicationRequest")
    by_reference = {k: v for k, v in order.items() if k != "medicationCodeableConcept"}
    by_reference["medicationReference"] = {"reference": "Medication/za-4mg"}
    medication = {"resourceType": "Medication", "id": "za-4mg", "code": order["medicationCodeableConcept"]}

    def served(mode: str):
        document = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"resource": by_reference, "search": {"mode": "match"}},
                {"resource": medication, "search": {"mode": mode}},
            ],
        }
        return _answer_json(search_url("MedicationRequest"), document)

    ehr.serve(templates(app), {"MedicationRequest": lambda: served("include")(mock)})
    response, _ = call(app, ehr)
    assert response.status_code == 200
    assert comparable(response.get_json()["cards"]) == comparable(baseline(app, ehr))
    assert "ZA-RENAL-DOSING" in rule_ids(response.get_json()["cards"])
    mock.reset()
    ehr.serve(templates(app), {"MedicationRequest": lambda: served("match")(mock)})
    response, _ = call(app, ehr)
    assert "DATA-UNAVAILABLE" in rule_ids(response.get_json()["cards"])


def test_the_request_id_reaches_the_fhir_server(fault_app, mock):
    """One id through the EHR's logs, ours and its FHIR server's (issue 13)."""
    app, ehr = fault_app(), FakeEhr(mock)
    ehr.serve(templates(app))
    response = app.test_client().post(
        URL, json=hook_body(ehr.pid, server=FHIR_BASE), headers={"X-Request-ID": "ehr-trace-42"}
    )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "ehr-trace-42"
    sent = {c.request.headers.get("X-Request-ID") for c in mock.calls}
    assert sent == {"ehr-trace-42"}
