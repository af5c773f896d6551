"""What the service keeps: the cards it returned, the feedback on them, seen JWT ids, its own secrets.

    store = Store("sqlite:///var/bonemet-cds.sqlite3", hash_key=None, store_comments=False)
    store.log_cards(service_id, hook_instance, patient_id, cards)   # written behind (card_log.py)
    store.record_cards(service_id, hook_instance, patient_id, cards)  # committed before it returns
    store.flush_cards()                                               # wait for this process's queue
    store.record_feedback(service_id, feedback_items) -> int
    store.replay_cache().seen_before(issuer, jti, expires_at) -> bool
    store.override_summary() -> list[OverrideCount]

SQLite (default, one host) or PostgreSQL (`postgresql+psycopg://...`, several instances sharing one
database: the replay cache and the patient-hash key are then shared too).

Schema management: the tables are created with `Base.metadata.create_all` when the `Store` is built, i.e.
at service start. That creates missing tables and never alters existing ones; there is no Alembic yet, so a
release that changes a table must ship its own migration (or introduce Alembic) before it is deployed on
an existing database.

Tables (models.py): `card_record`, `feedback`, `jti_seen`, `service_secret`.
"""

from cds_service.persistence.models import Base, CardRecord, Feedback, JtiSeen, ServiceSecret
from cds_service.persistence.replay import SqlReplayCache
from cds_service.persistence.store import Store
from cds_service.persistence.summary import OverrideCount

__all__ = [
    "Base",
    "CardRecord",
    "Feedback",
    "JtiSeen",
    "OverrideCount",
    "ServiceSecret",
    "SqlReplayCache",
    "Store",
]
