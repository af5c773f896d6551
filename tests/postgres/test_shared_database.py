"""Two service instances on one PostgreSQL database behave as one service: one replay cache, one store.

This is the deployment docs/health-it.md prescribes for more than one replica. Each instance is a full
app (its own engine, pool, verifier and key sets), as two pods would be; only the database is shared.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from cds_service.app import create_app
from cds_service.persistence import Feedback
from tests.conftest import make_settings
from tests.postgres.conftest import POSTGRES_MARKS
from tests.security.jwt_issuer import PUBLIC_URL, TestIssuer
from tests.security.patient_data import feedback_request, identified_hook_request

pytestmark = POSTGRES_MARKS
HOOK_PATH = "/cds-services/bonemet-patient-view"
FEEDBACK_PATH = HOOK_PATH + "/feedback"


@pytest.fixture
def issuer(tmp_path: Path) -> TestIssuer:
    return TestIssuer(tmp_path)


@pytest.fixture
def instances(tmp_path: Path, database_url: str, issuer: TestIssuer) -> tuple[Flask, Flask]:
    def instance(name: str) -> Flask:
        settings = make_settings(
            tmp_path / name,
            database_url=database_url,
            auth_mode="jwt",
            trusted_issuers=issuer.trusted_issuers(),
            public_url=PUBLIC_URL,
        )
        app = create_app(settings)
        app.config["TESTING"] = True
        return app

    first, second = instance("a"), instance("b")
    assert first.extensions["bonemet"].store.engine.dialect.name == "postgresql"
    return first, second


def feedback_rows(app: Flask, card_uuids: list[str]) -> int:
    with app.extensions["bonemet"].store.engine.connect() as connection:
        query = select(func.count()).select_from(Feedback).where(Feedback.card_uuid.in_(card_uuids))
        return connection.execute(query).scalar_one()


def test_a_token_used_on_one_instance_is_refused_by_the_other(instances, issuer: TestIssuer) -> None:
    first, second = instances
    token = {"Authorization": f"Bearer {issuer.token(HOOK_PATH)}"}
    assert (
        first.test_client().post(HOOK_PATH, json=identified_hook_request(), headers=token).status_code == 200
    )
    replay = second.test_client().post(HOOK_PATH, json=identified_hook_request(), headers=token)
    assert replay.status_code == 401
    assert replay.get_json() == {"error": "unauthorized", "message": "replayed jti"}
    fresh = {"Authorization": f"Bearer {issuer.token(HOOK_PATH)}"}
    assert (
        second.test_client().post(HOOK_PATH, json=identified_hook_request(), headers=fresh).status_code == 200
    )


def test_feedback_on_a_card_from_one_instance_is_joined_by_the_other(instances, issuer: TestIssuer) -> None:
    first, second = instances
    answer = (
        first.test_client()
        .post(HOOK_PATH, json=identified_hook_request(), headers=issuer.headers(HOOK_PATH))
        .get_json()
    )
    card = answer["cards"][0]
    # Card records are written behind the answer, within 50 ms; feedback comes seconds later in real use.
    assert first.extensions["bonemet"].store.flush_cards()
    response = second.test_client().post(
        FEEDBACK_PATH, json=feedback_request(card["uuid"]), headers=issuer.headers(FEEDBACK_PATH)
    )
    assert response.status_code == 200 and response.get_json() == {"recorded": 1}
    rule_id = card["source"]["topic"]["code"]
    for app in (first, second):
        rows = [r for r in app.extensions["bonemet"].store.override_summary() if r.outcome == "overridden"]
        assert [(r.rule_id, r.feedback_count) for r in rows] == [(rule_id, 1)]


def test_concurrent_feedback_posts_to_both_instances_are_all_persisted(instances, issuer: TestIssuer) -> None:
    first, second = instances
    posts = 60

    def post(index: int) -> tuple[str, int]:
        card_uuid = str(uuid.uuid4())
        app = first if index % 2 else second
        response = app.test_client().post(
            FEEDBACK_PATH, json=feedback_request(card_uuid), headers=issuer.headers(FEEDBACK_PATH)
        )
        return card_uuid, response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, range(posts)))
    assert [status for _, status in results] == [200] * posts
    assert feedback_rows(first, [card_uuid for card_uuid, _ in results]) == posts
