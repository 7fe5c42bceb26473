"""Readiness: can this process serve requests? Database, cache and task queue, each checked.

``/healthz`` (liveness) asks nothing of them: a process that answers is alive, and an
orchestrator should not restart healthy web processes because PostgreSQL blinked.
``/readyz`` (readiness) checks each dependency and answers 503 when one is down, so a load
balancer stops sending traffic to this instance until it is back.
"""

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: dict

    def as_json(self) -> dict:
        return {"status": "ok" if self.ok else "unavailable", **self.detail}


def _failed(name: str, error: Exception, **detail) -> Check:
    logger.error("Readiness: %s unavailable: %s", name, error)
    return Check(False, {**detail, "error": type(error).__name__})


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        return _failed("database", error, vendor=connection.vendor)
    return Check(True, {"vendor": connection.vendor})


def check_cache() -> Check:
    backend = "redis" if settings.REDIS_URL else "database"
    try:
        ping = getattr(cache, "ping", None)
        if ping is not None:
            ping()
        else:
            probe, value = "readyz:probe", secrets.token_hex(8)
            cache.set(probe, value, 30)
            if cache.get(probe) != value:
                raise RuntimeError("the value written was not read back")
    except Exception as error:
        return _failed("cache", error, backend=backend)
    return Check(True, {"backend": backend})


def check_task_queue() -> Check:
    backend = settings.TASKS_BACKEND
    try:
        if backend == "database":
            from django_tasks_db.models import DBTaskResult

            DBTaskResult.objects.ready().exists()
        elif backend == "rq":
            import django_rq

            django_rq.get_connection("default").ping()
        # immediate and dummy: tasks run in the request (or not at all); no queue to reach.
    except Exception as error:
        return _failed("task queue", error, backend=backend)
    return Check(True, {"backend": backend})


def readiness() -> tuple[bool, dict]:
    checks = {"database": check_database(), "cache": check_cache(), "tasks": check_task_queue()}
    ready = all(check.ok for check in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    return ready, body
