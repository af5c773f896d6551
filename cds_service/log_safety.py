"""Logging that cannot carry secrets or patient data.

The service logs events, codes and counts, never request bodies. As a second line of defence a filter
redacts anything shaped like a bearer token or JWT that slips into a message, and internal errors are
logged as a stack of frames (file, line, function) without the exception's message, which can quote
patient data.

Text the caller chooses (a service id or patient id in the URL path, a JSON object key in the body) is
never logged as sent: it can be anything, a patient's name included. `caller_text` logs its length and
a short digest instead (enough to tell two log lines apart or match a report), and `safe_path` keeps
only the path segments the service itself defines.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from collections.abc import Iterable

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


# Path segments the service defines (routes, static files); registered service ids are added by the caller.
_ROUTE_SEGMENTS = frozenset(
    {"cds-services", "feedback", "healthz", "preview", "patient-view", "static", "favicon.svg", "preview.css"}
)


def caller_text(value: str) -> str:
    """How text the caller chose appears in a log: its length and a 12-hex-digit SHA-256 prefix."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"<{len(value)} chars sha256:{digest}>"


def safe_path(path: str, known_segments: Iterable[str] = ()) -> str:
    """`path` with every segment the service does not define replaced by `caller_text`."""
    allowed = _ROUTE_SEGMENTS.union(known_segments)
    return "/".join(part if not part or part in allowed else caller_text(part) for part in path.split("/"))


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
