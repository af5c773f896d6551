"""The check that a server searched what was asked, on its own: what counts as the same parameter."""

from __future__ import annotations

import pytest

from cds_service.fhir_client import FetchFailed, check_applied, encode_query

BASE = "https://fhir.test/R4/"


def bundle(self_url):
    return {"resourceType": "Bundle", "type": "searchset", "link": [{"relation": "self", "url": self_url}]}


def sent(query):
    return encode_query(BASE, query).params


def test_encoding_keeps_escapes_already_made_and_the_value_separators():
    query = encode_query(BASE, "Observation?patient=a%2Fb&code=http://loinc.org|1-8,http://loinc.org|2-6")
    assert query.url == (
        BASE + "Observation?patient=a%2Fb&code=http%3A%2F%2Floinc.org%7C1-8,http%3A%2F%2Floinc.org%7C2-6"
    )
    assert query.params == (("patient", "a/b"), ("code", "http://loinc.org|1-8,http://loinc.org|2-6"))


def test_a_read_has_no_parameters_to_check():
    assert encode_query(BASE, "Patient/p-1").params is None


@pytest.mark.parametrize(
    "self_query",
    [
        "patient=p-1&code=http%3A%2F%2Floinc.org%7C2-6%2Chttp%3A%2F%2Floinc.org%7C1-8",  # reordered, %2C
        "code=http://loinc.org|1-8,http://loinc.org|2-6&patient=Patient/p-1&_count=50",  # reference form
    ],
    ids=["reordered-values", "typed-reference-and-paging"],
)
def test_the_same_parameters_written_differently_are_accepted(self_query):
    params = sent("Observation?patient=p-1&code=http://loinc.org|1-8,http://loinc.org|2-6")
    check_applied(bundle(f"{BASE}Observation?{self_query}"), params, "Observation", require_self_link=True)


@pytest.mark.parametrize(
    ("self_query", "reason"),
    [
        ("patient=p-1", "code not applied"),
        ("patient=p-1&code=http%3A%2Floinc.org%7C1-8", "code applied with another value"),
        ("patient=p-1&code=http://loinc.org|1-8", "code applied with another value"),
        ("patient=p-2&code=http://loinc.org|1-8,http://loinc.org|2-6", "patient applied with another value"),
    ],
    ids=["dropped", "collapsed-slashes", "one-value-lost", "other-patient"],
)
def test_a_parameter_missing_or_altered_fails_the_query(self_query, reason):
    params = sent("Observation?patient=p-1&code=http://loinc.org|1-8,http://loinc.org|2-6")
    with pytest.raises(FetchFailed, match=reason):
        check_applied(
            bundle(f"{BASE}Observation?{self_query}"), params, "Observation", require_self_link=True
        )


def test_a_self_link_for_another_type_fails_the_query():
    with pytest.raises(FetchFailed, match="self link names another search"):
        check_applied(
            bundle(f"{BASE}Condition?patient=p-1"),
            sent("Observation?patient=p-1"),
            "Observation",
            require_self_link=True,
        )


def test_no_self_link_fails_unless_the_site_allows_it():
    params = sent("Observation?patient=p-1")
    with pytest.raises(FetchFailed, match="no self link"):
        check_applied({"resourceType": "Bundle"}, params, "Observation", require_self_link=True)
    check_applied({"resourceType": "Bundle"}, params, "Observation", require_self_link=False)


def test_result_shaping_parameters_need_not_be_echoed():
    """`_sort`, `_count`, `_include` change order, paging or extra resources, not which resources match."""
    params = sent("Observation?patient=p-1&_sort=-date&_count=50&_include=Observation:subject")
    check_applied(bundle(f"{BASE}Observation?patient=p-1"), params, "Observation", require_self_link=True)


def test_filtering_underscore_parameters_must_be_echoed():
    params = sent("Observation?patient=p-1&_lastUpdated=ge2026-01-01")
    with pytest.raises(FetchFailed, match="_lastUpdated not applied"):
        check_applied(bundle(f"{BASE}Observation?patient=p-1"), params, "Observation", require_self_link=True)
