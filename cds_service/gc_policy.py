"""Garbage-collector settings of a server worker, applied around the fork.

A hook call parses a chart into tens of thousands of dicts and lists (the benchmark's typical patient-view
body: ~14,000; its heavy one: ~130,000). With CPython's default gen-0 threshold of 700 container objects,
parsing alone runs dozens of collections, and every few calls a full one that walks every object the app
loaded at start-up (~92,000: Flask, SQLAlchemy, the fhir.resources models, the code sets). Measured on the
2-core benchmark machine, `orjson.loads` of the typical body took 4.5 ms with the defaults and 1.8 ms with
this policy (1.8 ms is what it takes with the collector off); the heavy body 62 ms and 15 ms.

Two changes, both what CPython's documentation of `gc.freeze` describes for pre-fork servers:
- `freeze()` in the master, just before it forks: what the app built at start-up moves to the permanent
  generation, which no collection walks (it lives as long as the process anyway), and the workers' pages
  holding it stay shared instead of being copied when a collection would write to them;
- a gen-0 threshold of 50,000 in each worker: a collection after ~50,000 net new container objects instead
  of 700. Reference cycles are still collected; at most that many objects wait for it (a few MB), and the
  benchmark's memory section checks that resident memory stays flat over 10,000 calls.
"""

from __future__ import annotations

import gc

WORKER_THRESHOLDS = (50_000, 20, 10)


def freeze_before_fork() -> None:
    """In the master, after the app is built: collect start-up garbage once, then freeze the survivors."""
    gc.collect()
    gc.freeze()


def apply_worker_policy() -> None:
    """In a worker (and in the benchmark's in-process section, so it measures what a worker runs)."""
    gc.set_threshold(*WORKER_THRESHOLDS)
