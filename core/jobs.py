"""Background jobs on RQ, enqueued by registered name.

Each plugin's jobs run on the queue ``interviewminds.<plugin id>``. A job is called as
``function(ctx, **kwargs)`` in a worker started by ``interviewminds worker CONFIG``, which
loads the same plugin list as the web app. Failed jobs are retried with the backoff in
``interviewminds.jobs.retry_intervals``.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from redis import exceptions as redis_exceptions
from rq import Queue, Retry, Worker
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


# How often the worker's ticker checks that RQ's scheduler process is alive, in seconds.
SCHEDULER_CHECK_SECONDS = 1.0


class SchedulingWorker(Worker):
    """RQ's worker, kept working through a Redis outage.

    Two RQ behaviours made delayed jobs stall after Redis restarted:

    * RQ runs the scheduler (it moves due jobs from ``rq:scheduled:<queue>`` to the queue) in a
      process the worker forks. A Redis outage kills that process (its heartbeat raises), and
      RQ starts it again only in its maintenance tasks, every 10 minutes.
      :meth:`keep_scheduler_alive`, called by the worker's ticker thread every
      :data:`SCHEDULER_CHECK_SECONDS`, does what RQ's maintenance does (take the scheduler
      lock, fork a scheduler if it got it) as soon as the process is gone. Where another worker
      holds the lock it keeps trying, so it also takes over within the lock's TTL (about a
      minute) when that worker dies.
    * RQ's loop reconnects only while it waits for a job; a Redis error anywhere else (setting
      its state, its heartbeat after a job) ends :meth:`work`. :func:`run_worker` then waits for
      Redis and starts a new worker (``shutdown_requested`` tells that apart from a stop signal).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Re-entrant: RQ stops the scheduler from a signal handler in the main thread, which
        # may interrupt run_maintenance_tasks while it holds the guard.
        self._scheduler_guard = threading.RLock()
        self._scheduler_closed = False
        self._scheduler_outage = False
        self.shutdown_requested = False

    def request_stop(self, signum, frame):
        self.shutdown_requested = True
        super().request_stop(signum, frame)

    def keep_scheduler_alive(self) -> bool:
        """Start a scheduler process if this worker has none alive and wins the scheduler lock.

        Returns True when one was started. Redis errors are logged once per outage, not raised.
        """
        with self._scheduler_guard:
            scheduler = self.scheduler
            if self._scheduler_closed or scheduler is None:
                return False
            process = getattr(scheduler, "_process", None)
            if process is not None and process.is_alive():
                return False
            try:
                scheduler.acquire_locks(auto_start=True)
            except redis_exceptions.RedisError as exc:
                if not self._scheduler_outage:
                    self._scheduler_outage = True
                    log.warning("RQ scheduler is down and Redis is unreachable (%s); retrying every %.0f s",
                                exc.__class__.__name__, SCHEDULER_CHECK_SECONDS)
                return False
            self._scheduler_outage = False
            started = scheduler._process is not None and scheduler._process is not process
            if started:
                log.warning("RQ scheduler process restarted for %s", ", ".join(sorted(scheduler.acquired_locks)))
            return started

    def run_maintenance_tasks(self):
        with self._scheduler_guard:
            super().run_maintenance_tasks()

    def stop_scheduler(self):
        with self._scheduler_guard:
            self._scheduler_closed = True
            super().stop_scheduler()

    def clean_up_after_outage(self) -> None:
        """Once Redis answers again after :meth:`work` ended on an error: release the scheduler
        locks this worker's scheduler held (its successor would otherwise wait out their TTL)
        and record this worker's death. Only keys owned by this worker are touched."""
        try:
            if self.scheduler is not None:
                self.scheduler.release_locks()
                self.scheduler.register_death()
            self.register_death()
        except redis_exceptions.RedisError:
            log.warning("could not clean up after RQ worker %s; its keys expire by themselves", self.name)


def _ticker(registry, current: dict, stop: threading.Event, tick: float) -> None:
    """Every second: keep RQ's scheduler alive; every ``tick`` seconds: enqueue due periodic jobs."""
    periodic = bool(find_service(registry, JOBS).periodic)
    next_periodic = time.monotonic() + tick
    while not stop.wait(min(SCHEDULER_CHECK_SECONDS, tick)):
        worker = current.get("worker")
        if worker is not None:
            try:
                worker.keep_scheduler_alive()
            except Exception:  # the ticker must survive anything
                log.exception("RQ scheduler check failed")
        if periodic and time.monotonic() >= next_periodic:
            next_periodic = time.monotonic() + tick
            try:
                enqueue_due_periodic(registry)
            except redis_exceptions.RedisError as exc:
                log.warning("periodic jobs not enqueued: Redis unreachable (%s)", exc.__class__.__name__)
            except Exception:  # the ticker must survive anything
                log.exception("periodic job tick failed")


def _wait_for_redis(redis, worker: SchedulingWorker, interval: float = 1.0) -> bool:
    """Block until Redis answers (True), or until a stop is requested (False)."""
    from rq.exceptions import StopRequested

    try:
        while not worker.shutdown_requested:
            try:
                redis.ping()
                return True
            except redis_exceptions.RedisError:
                time.sleep(interval)
    except StopRequested:  # SIGTERM/SIGINT while waiting (RQ's handlers are still installed)
        pass
    return False


def run_worker(registry, *, burst: bool = False, with_scheduler: bool = True, tick: float = 5.0) -> bool:
    """Run an RQ worker over every plugin queue of this app, plus a ticker thread that enqueues
    periodic jobs and restarts RQ's scheduler process after it died. When a Redis error ends
    RQ's loop (not a stop signal), wait for Redis and start a new worker, until stopped."""
    bind_worker(registry)
    redis = find_service(registry, REDIS)
    watched = queues(registry) or [Queue(QUEUE_PREFIX + "core", connection=redis)]
    stop = threading.Event()
    current: dict = {}
    if find_service(registry, JOBS).periodic:
        enqueue_due_periodic(registry)
    if not burst:
        threading.Thread(target=_ticker, args=(registry, current, stop, tick), daemon=True,
                         name="worker-ticker").start()
    try:
        while True:
            worker = SchedulingWorker(watched, connection=redis)
            current["worker"] = worker if with_scheduler else None
            try:
                worked = worker.work(burst=burst, with_scheduler=with_scheduler)
            except redis_exceptions.RedisError as exc:  # raised by RQ's own teardown
                log.warning("RQ worker %s stopped: Redis unreachable (%s)", worker.name, exc.__class__.__name__)
                worked = False
            if burst or worker.shutdown_requested:
                return worked
            log.warning("RQ worker %s stopped on an error; starting a new one once Redis answers", worker.name)
            if not _wait_for_redis(redis, worker):
                return worked
            worker.clean_up_after_outage()
    finally:
        stop.set()
