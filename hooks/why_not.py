"""Why a rule stayed silent, said by the rule itself at the line that decided it.

A rule returns a Finding or None to the runner, and that stays so; `not_fired(reason)` is that None, with
the reason recorded for whoever is listening (the explainer behind the bone health review app, issue 12).
Nobody listens during a hook call: a reason given as a callable is then never computed, and a string costs
one context-variable read. Why not the return value: a second return type in every rule would change what
the runner, the tests and the site plug-ins rely on, for a view only the app needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from hooks.findings import Finding

Reason = str | Callable[[], str]

_LISTENER: ContextVar[list[str] | None] = ContextVar("bonemet_why_not", default=None)


def not_fired(reason: Reason) -> Finding | None:
    """None for the runner (typed as a rule's return, which it stands for); the reason for a listener.
    Give a callable when the text costs work."""
    heard = _LISTENER.get()
    if heard is not None:
        heard.append(reason() if callable(reason) else reason)
    return None


@contextmanager
def listening() -> Iterator[list[str]]:
    """The reasons given while the block runs, in order (the last one is the rule's own verdict: a helper
    it called may have given one first)."""
    heard: list[str] = []
    token = _LISTENER.set(heard)
    try:
        yield heard
    finally:
        _LISTENER.reset(token)
