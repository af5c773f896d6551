"""Logging that cannot carry secrets or patient data.

The service logs events, codes and counts, never request bodies. As a second line of defence a filter
redacts anything shaped like a bearer token or JWT that slips into a message, and internal errors are
logged as a stack of frames (file, line, function) without the exception's message, which can quote
patient data.

Text the caller chooses (a service id or patient id in the URL path, a JSON object key in the body) is
never logged as sent: it can be anything, a patient's name included. `caller_text` logs its length and
a short digest instead (enough to tell two log lines apart or match a report). Requests are logged by
the name of their route, never their path (`cds_service.call_log`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback

from pythonjsonlogger.json import JsonFormatter

_TOKEN_PATTERNS = (
    re.compile(r"(?i)bearer\s+(?!token\b)[A-Za-z0-9\-._~+/]+=*"),  # not the words "bearer token"
    re.compile(r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"),
)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for pattern in _TOKEN_PATTERNS:
            redacted = pattern.sub("[redacted]", redacted)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def looks_secret(text: str) -> bool:
    """Whether a value a caller gave (a request id) has the shape of a token, and so must not be logged."""
    return any(pattern.search(text) for pattern in _TOKEN_PATTERNS)


def caller_text(value: str) -> str:
    """How text the caller chose appears in a log: its length and a 12-hex-digit SHA-256 prefix."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"<{len(value)} chars sha256:{digest}>"


def frames_only(exc: BaseException) -> str:
    """The traceback of `exc` as file:line in function, without the exception message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames[-8:])
    )
    return f"{type(exc).__name__} at {where}"


def configure_logging(level: str, log_format: str = "json") -> None:
    """One handler on the root logger, redacting. JSON (one object a line, with the call fields of
    `cds_service.call_log` as keys) is what log pipelines parse; `text` is for a person at a terminal."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if any(isinstance(f, RedactSecrets) for f in h.filters)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.addFilter(RedactSecrets())
        root.addHandler(handler)
    handler.setFormatter(_formatter(log_format))
    root.setLevel(level)


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "text":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
