"""The feedback schema (CDS Hooks 2.0 Feedback): valid outcomes pass, each broken field is named."""

from __future__ import annotations

import pytest

from cds_service.errors import RequestError
from cds_service.validation import MAX_MESSAGE_CHARS, validate_feedback
from tests.schemas.examples import feedback_body


def field_of_refusal(body: dict) -> str | None:
    with pytest.raises(RequestError) as caught:
        validate_feedback(body)
    assert len(caught.value.message) <= MAX_MESSAGE_CHARS
    return caught.value.field


def test_accepted_and_overridden_outcomes_pass_together() -> None:
    validate_feedback(feedback_body("accepted", "overridden", "overridden-without-reason"))


def test_a_bad_outcome_is_named() -> None:
    body = feedback_body("accepted", "overridden")
    body["feedback"][1]["outcome"] = "dismissed"
    assert field_of_refusal(body) == "/feedback/1/outcome"


@pytest.mark.parametrize(
    ("outcome", "edit", "field"),
    [
        ("accepted", lambda item: item.pop("acceptedSuggestions"), "/feedback/0/acceptedSuggestions"),
        (
            "accepted",
            lambda item: item.update(acceptedSuggestions=[{}]),
            "/feedback/0/acceptedSuggestions/0/id",
        ),
        ("accepted", lambda item: item.update(card="card-1"), "/feedback/0/card"),
        ("accepted", lambda item: item.pop("outcomeTimestamp"), "/feedback/0/outcomeTimestamp"),
        (
            "accepted",
            lambda item: item.update(outcomeTimestamp="2021-12-11 10:05"),
            "/feedback/0/outcomeTimestamp",
        ),
        (
            "overridden",
            lambda item: item["overrideReason"]["reason"].pop("system"),
            "/feedback/0/overrideReason/reason/system",
        ),
        (
            "overridden",
            lambda item: item["overrideReason"].update(userComment="z" * 5000),
            "/feedback/0/overrideReason/userComment",
        ),
    ],
)
def test_each_invalid_field_is_named(outcome: str, edit, field: str) -> None:
    body = feedback_body(outcome)
    edit(body["feedback"][0])
    assert field_of_refusal(body) == field


def test_feedback_must_be_a_non_empty_array() -> None:
    assert field_of_refusal({}) == "/feedback"
    assert field_of_refusal({"feedback": []}) == "/feedback"
    assert field_of_refusal({"feedback": {"card": "x"}}) == "/feedback"


def test_a_comment_is_not_echoed_in_the_message() -> None:
    body = feedback_body("overridden")
    body["feedback"][0]["overrideReason"]["userComment"] = "Mr ZHANG refused " * 400
    with pytest.raises(RequestError) as caught:
        validate_feedback(body)
    assert "ZHANG" not in caught.value.message
