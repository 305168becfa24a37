"""Background jobs on RQ, enqueued by registered name.

Each plugin's jobs run on the queue ``interviewminds.<plugin id>``. A job is called as
``function(ctx, **kwargs)`` in a worker started by ``interviewminds worker CONFIG``, which
loads the same plugin list as the web app. Failed jobs are retried with the backoff in
``interviewminds.jobs.retry_intervals``.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Callable

from rq import Queue, Retry
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry, ScheduledJobRegistry

from core.lookup import JOBS, METRICS, REDIS, find_service
from core.plugins import PluginError, call_each

log = logging.getLogger(__name__)

QUEUE_PREFIX = "interviewminds."


@dataclass
class JobContext:
    """What a job function receives: the app's registry, settings, Redis and services."""

    registry: Any

    @property
    def settings(self):
        return self.registry.settings

    @property
    def redis(self):
        return find_service(self.registry, REDIS)

    def find_service(self, name: str, *, optional: bool = False):
        """A service by name, as ``request.find_service(name=...)`` in a view."""
        return find_service(self.registry, name, optional=optional)

    def enqueue(self, name: str, **kwargs):
        return enqueue(self.registry, name, **kwargs)


@dataclass(frozen=True)
class Periodic:
    """A job the workers run every ``every`` seconds (retention purges, reapers).

    Return it as a value of ``interviewminds_jobs``: ``{"myplugin.purge": Periodic(purge, every=3600)}``.
    Whatever the number of workers, each period's run is enqueued once (a Redis SET NX claim).
    """

    target: Any
    every: int


def resolve_callable(target) -> Callable:
    if callable(target):
        return target
    module, _, attr = str(target).partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class JobCatalog:
    """Job name -> (plugin id, function), and periodic job name -> period in seconds."""

    jobs: dict
    periodic: dict


def collect_jobs(pm, settings) -> JobCatalog:
    """Every plugin's jobs (core's come from core.builtin). Names must start with the plugin id."""
    jobs: dict[str, tuple[str, Callable]] = {}
    periodic: dict[str, int] = {}
    for plugin_id, mapping in call_each(pm, "interviewminds_jobs", settings=settings):
        for name, target in dict(mapping).items():
            if not name.startswith(f"{plugin_id}."):
                raise PluginError(f"plugin {plugin_id!r}: job {name!r} must be named '{plugin_id}.<job>'")
            if name in jobs:
                raise PluginError(f"job {name!r} is declared by both {jobs[name][0]!r} and {plugin_id!r}")
            if isinstance(target, Periodic):
                if int(target.every) < 1:
                    raise PluginError(f"plugin {plugin_id!r}: periodic job {name!r} needs every >= 1 second")
                periodic[name] = int(target.every)
                target = target.target
            try:
                jobs[name] = (plugin_id, resolve_callable(target))
            except (ImportError, AttributeError) as exc:
                raise PluginError(f"plugin {plugin_id!r}: job {name!r} target {target!r} "
                                  f"cannot be imported: {exc}") from exc
    return JobCatalog(jobs, periodic)


def queue_name(plugin_id: str) -> str:
    return QUEUE_PREFIX + plugin_id


def queues(registry) -> list[Queue]:
    redis = find_service(registry, REDIS)
    plugin_ids = sorted({plugin_id for plugin_id, _ in find_service(registry, JOBS).jobs.values()})
    return [Queue(queue_name(pid), connection=redis) for pid in plugin_ids]


def enqueue(registry, name: str, *, job_id: str | None = None, delay: float | None = None, **kwargs):
    """Enqueue job ``name`` with small JSON-able kwargs; returns the RQ job.

    ``job_id`` makes enqueueing idempotent for callers that need it; ``delay`` schedules it.
    """
    catalog: JobCatalog = find_service(registry, JOBS)
    if name not in catalog.jobs:
        raise KeyError(f"unknown job {name!r}")
    plugin_id, _ = catalog.jobs[name]
    settings = registry.settings
    intervals = [int(x) for x in settings["interviewminds.jobs.retry_intervals"]]
    retries = settings["interviewminds.jobs.max_retries"]
    queue = Queue(queue_name(plugin_id), connection=find_service(registry, REDIS))
    options = dict(job_id=job_id, retry=Retry(max=retries, interval=intervals) if retries else None,
                   job_timeout=settings["interviewminds.jobs.default_timeout"],
                   result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600)
    if delay:
        import datetime as dt

        job = queue.enqueue_in(dt.timedelta(seconds=delay), run_job, name, kwargs, **options)
    else:
        job = queue.enqueue(run_job, name, kwargs, **options)
    find_service(registry, METRICS).jobs_enqueued.labels(name).inc()
    return job


# The worker process's app registry. A worker runs one app, so a process-wide slot is the
# simplest correct handle for RQ, which calls jobs by import path.
_worker_registry = None


def bind_worker(registry) -> None:
    global _worker_registry
    _worker_registry = registry


def run_job(name: str, kwargs: dict):
    """The function RQ actually runs: look the job up by name and call it with a context."""
    if _worker_registry is None:
        raise RuntimeError("run_job called outside `interviewminds worker`")
    _, function = find_service(_worker_registry, JOBS).jobs[name]
    return function(JobContext(_worker_registry), **kwargs)


def queue_counts(registry) -> dict[str, dict[str, int]]:
    """Queued, started, scheduled, failed and finished counts per queue."""
    out = {}
    for queue in queues(registry):
        out[queue.name] = {
            "queued": queue.count,
            "started": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
            "finished": FinishedJobRegistry(queue=queue).count,
        }
    return out


def enqueue_due_periodic(registry, now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose current period nobody has claimed yet; returns their names."""
    import time

    now = time.time() if now is None else now
    enqueued = []
    redis = find_service(registry, REDIS)
    for name, every in find_service(registry, JOBS).periodic.items():
        slot = int(now // every)
        claim = f"interviewminds:periodic:{name}:{slot}"
        if redis.set(claim, "1", nx=True, ex=every * 2 + 60):
            enqueue(registry, name, job_id=f"periodic-{name.replace('.', '_')}-{slot}")
            enqueued.append(name)
    return enqueued


def _periodic_loop(registry, stop, tick: float) -> None:
    while not stop.wait(tick):
        try:
            enqueue_due_periodic(registry)
        except Exception:  # Redis blips must not kill the ticker
            log.exception("periodic job tick failed")


def run_worker(registry, *, burst: bool = False, with_scheduler: bool = True, tick: float = 5.0) -> bool:
    """Run an RQ worker over every plugin queue of this app (plus the periodic-job ticker)."""
    import threading

    from rq import Worker

    bind_worker(registry)
    redis = find_service(registry, REDIS)
    stop = threading.Event()
    if find_service(registry, JOBS).periodic:
        enqueue_due_periodic(registry)
        if not burst:
            threading.Thread(target=_periodic_loop, args=(registry, stop, tick), daemon=True,
                             name="periodic-jobs").start()
    worker = Worker(queues(registry) or [Queue(QUEUE_PREFIX + "core", connection=redis)], connection=redis)
    try:
        return worker.work(burst=burst, with_scheduler=with_scheduler)
    finally:
        stop.set()
