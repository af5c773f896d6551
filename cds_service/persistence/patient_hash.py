"""The patient pseudonym: HMAC-SHA256 of the patient id under a key the service keeps.

A plain hash of a patient id can be reversed by hashing every id in the hospital's range; a keyed one
cannot without the key. The key is the configured one (BONEMET_PATIENT_HASH_KEY) or, when none is
configured, one generated on first start and kept in `service_secret`, so every worker and every instance
sharing the database computes the same pseudonym for the same patient.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from cds_service.persistence.models import ServiceSecret

SECRET_NAME = "patient_hash_key"  # noqa: S105 - the name of the secret, not the secret


def load_or_create_key(engine: Engine) -> bytes:
    """The stored key; the first instance to start creates it and any racing instance reads that one."""
    existing = _read(engine)
    if existing is not None:
        return existing.encode("utf-8")
    try:
        with engine.begin() as connection:
            connection.execute(insert(ServiceSecret).values(name=SECRET_NAME, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another instance won the race; its key is the one to use
    stored = _read(engine)
    if stored is None:
        raise RuntimeError("patient hash key could not be stored")
    return stored.encode("utf-8")


def _read(engine: Engine) -> str | None:
    with engine.connect() as connection:
        query = select(ServiceSecret.value).where(ServiceSecret.name == SECRET_NAME)
        return connection.execute(query).scalar()


def patient_pseudonym(key: bytes, patient_id: str) -> str:
    return hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
