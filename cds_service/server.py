"""The production server: gunicorn, embedded so `bonemet-cds serve` needs no extra config file.

Workers are forked after the app is built (`preload_app`), so every data file is read and checked once
in the master and a bad setting stops start-up before any worker exists. The garbage collector is set
around the fork (`gc_policy`): a chart is tens of thousands of objects, and the defaults cost more than
parsing it. Database connections are
not shared across the fork: each worker disposes the inherited pool and opens its own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from cds_service import gc_policy
from cds_service.log_safety import safe_path
from hooks.service_registry import services


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


class AccessLog(Logger):
    """gunicorn's logger, with the access log's path cut down to what the service defines: a preview
    patient id or an unknown service id in the URL is logged as its length and digest (`safe_path`)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["U"] = safe_path(str(atoms.get("U") or ""), _service_ids())
        atoms["r"] = f"{atoms.get('m')} {atoms['U']} {atoms.get('H')}"
        atoms["q"] = "-"
        return atoms


@cache
def _service_ids() -> frozenset[str]:
    return frozenset(services())


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


def _runtime(worker: Any) -> Any:
    app = worker.wsgi if hasattr(worker, "wsgi") else None
    return getattr(app, "extensions", {}).get("bonemet") if app is not None else None


def serve(host: str, port: int, workers: int, threads: int, app_factory: Any) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": "-",
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        "logger_class": AccessLog,
        "pre_fork": pre_fork,
        "post_fork": post_fork,
        "worker_exit": worker_exit,
    }
    GunicornServer(app_factory, options).run()
