"""The production server: gunicorn, embedded so `bonemet-cds serve` needs no extra config file.

Workers are forked after the app is built (`preload_app`), so every data file is read and checked once
in the master and a bad setting stops start-up before any worker exists. The garbage collector is set
around the fork (`gc_policy`): a chart is tens of thousands of objects, and the defaults cost more than
parsing it. Database connections are
not shared across the fork: each worker disposes the inherited pool and opens its own.

The worker class is always `BufferingThreadWorker` (gthread that reads each request whole before a
thread gets it; `cds_service.buffering_worker`), also with one thread: gunicorn's sync worker would
give one slow client the whole worker.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from cds_service import gc_policy
from cds_service.buffering_worker import BufferingThreadWorker
from cds_service.pending_request import ReadLimits
from cds_service.settings import Settings


class GunicornServer(BaseApplication):
    def __init__(self, app_factory: Any, options: dict[str, Any]):
        self._app_factory = app_factory
        self._options = options
        self._app: Any = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        if self._app is None:
            self._app = self._app_factory()
        return self._app


def pre_fork(server: Any, worker: Any) -> None:
    gc_policy.freeze_before_fork()


def post_fork(server: Any, worker: Any) -> None:
    gc_policy.apply_worker_policy()
    runtime = _runtime(worker)
    if runtime is not None:
        runtime.store.engine.dispose(close=False)


def worker_exit(server: Any, worker: Any) -> None:
    """A graceful stop writes the card records still queued in this worker (`persistence.card_log`)."""
    runtime = _runtime(worker)
    if runtime is not None:
        runtime.store.flush_cards()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that is gone must stop counting in the live gauges of `/metrics` (its counters stay)."""
    from cds_service import metrics

    metrics.worker_exited(worker.pid)


def _runtime(worker: Any) -> Any:
    app = worker.wsgi if hasattr(worker, "wsgi") else None
    return getattr(app, "extensions", {}).get("bonemet") if app is not None else None


def serve(
    host: str, port: int, workers: int, threads: int, app_factory: Any, limits: ReadLimits | None = None
) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": worker_class(limits or ReadLimits()),
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        # One JSON line per request comes from the app (`cds_service.call_log`): a text access log beside
        # it would be a second line per call, in another format, carrying the caller's path.
        "accesslog": None,
        # Nothing here uses gunicornc. Its socket lives under $HOME, which a container's non-root user
        # cannot write (an error at every start), and every server on a machine would share one path.
        "control_socket_disable": True,
        "pre_fork": pre_fork,
        "post_fork": post_fork,
        "worker_exit": worker_exit,
        "child_exit": child_exit,
    }
    GunicornServer(app_factory, options).run()


def worker_class(limits: ReadLimits) -> type[BufferingThreadWorker]:
    """The worker with these read deadlines; a subclass, so the limits travel with it into the fork."""
    return type("BufferingThreadWorker", (BufferingThreadWorker,), {"limits": limits})


def read_limits(settings: Settings) -> ReadLimits:
    """The deadlines and body limit of the service's settings (BONEMET_HEADER_TIMEOUT_SECONDS, ...)."""
    return ReadLimits(
        header_seconds=settings.header_timeout_seconds,
        body_seconds=settings.body_timeout_seconds,
        max_body_bytes=settings.max_body_bytes,
        max_buffered_bytes=max(ReadLimits.max_buffered_bytes, 8 * settings.max_body_bytes),
    )
