"""Logging that cannot carry secrets or patient data.

The service logs events, codes and counts, never request bodies. As a second line of defence a filter
redacts anything shaped like a bearer token or JWT that slips into a message, and internal errors are
logged as a stack of frames (file, line, function) without the exception's message, which can quote
patient data.
"""

from __future__ import annotations

import logging
import re
import traceback

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


def frames_only(exc: BaseException) -> str:
    """The traceback of `exc` as file:line in function, without the exception message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames[-8:])
    )
    return f"{type(exc).__name__} at {where}"


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactSecrets) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactSecrets())
        root.addHandler(handler)
    root.setLevel(level)
