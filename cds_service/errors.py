"""Every error the service answers with, as one hierarchy with stable codes.

    ServiceError (500 internal-error)
    ├── RequestError (400 invalid-request)            the body breaks the hook request schema
    │   ├── UnsupportedMediaType (415 unsupported-media-type)
    │   └── PayloadTooLarge (413 payload-too-large)
    ├── UnknownService (404 unknown-service)
    ├── AuthError (401 unauthorized)                  JWT missing, invalid, untrusted or replayed
    ├── PrefetchUnavailable (412 prefetch-unavailable) data a rule needs could not be had
    ├── FhirAccessRefused (412 fhir-server-not-allowed) the fhirServer is not on the allow-list
    └── ConfigurationError (raised at start-up only; never reaches a caller)

The JSON body of every error is `{"error": code, "message": ..., "field": ...?}`. `message` never contains
patient data or tokens: it names fields and reasons, not values. Where it names something the caller
chose (an unknown service id, a JSON key), the error's `log_message` replaces that text with its length
and digest (`log_safety.caller_text`): the caller may see its own text again, the log never holds it.
An internal error is a 500 with this body, never an empty card list.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 500
    code = "internal-error"

    def __init__(
        self, message: str = "internal error", *, field: str | None = None, log_message: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        # What the log says; differs from `message` when the message quotes text the caller chose.
        self.log_message = message if log_message is None else log_message

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class RequestError(ServiceError):
    status = 400
    code = "invalid-request"


class UnsupportedMediaType(RequestError):
    status = 415
    code = "unsupported-media-type"


class PayloadTooLarge(RequestError):
    status = 413
    code = "payload-too-large"


class UnknownService(ServiceError):
    status = 404
    code = "unknown-service"


class AuthError(ServiceError):
    status = 401
    code = "unauthorized"


class PrefetchUnavailable(ServiceError):
    status = 412
    code = "prefetch-unavailable"


class FhirAccessRefused(PrefetchUnavailable):
    code = "fhir-server-not-allowed"


class ConfigurationError(Exception):
    """A setting or data file is wrong; raised while the app is built so start-up stops with the reason."""
