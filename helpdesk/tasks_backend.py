"""The default task backend (``TASKS_BACKEND=immediate``): tasks run in the web process,
after the response has been sent.

Django's ImmediateBackend runs a task the moment it is enqueued, so an email sent by a
request held that request until the mail provider answered (a hanging SMTP server held
``POST /api/v1/tickets`` for a minute), and a request that sends mail answered slower
than one that does not (which told a portal visitor whether an address is a customer's).
Here a task enqueued while a request is being handled waits until Django's
``request_finished`` signal — sent when the server has delivered the response and closes
it — and then runs, still in the same process, so ``make dev`` needs no worker. Outside a
request (management commands, the shell, tests calling services directly) it runs at
once, as the ImmediateBackend does. Retries with backoff still need a real worker
(``TASKS_BACKEND=database`` or ``rq``).
"""

from contextvars import ContextVar
from functools import partial

from django.core.signals import request_finished, request_started
from django.db import connections
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.base import TaskResult, TaskResultStatus
from django.utils.crypto import get_random_string

# The tasks the current request enqueued; None outside a request. A context variable is
# per thread (and per asyncio task), so concurrent requests never run each other's tasks.
_after_response: ContextVar[list | None] = ContextVar("tasks_after_response", default=None)


def _request_started(**kwargs) -> None:
    # A previous request on this thread whose response was never closed still owns tasks:
    # run them now rather than lose them.
    _run_pending()
    _after_response.set([])


def _request_finished(**kwargs) -> None:
    if _run_pending():
        # Django closed the request's connection before this ran; close what the tasks
        # opened. Not a connection inside a transaction: after a real response none is
        # open, and a test that wraps its requests in one must keep its connection.
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()


def _run_pending() -> bool:
    pending = _after_response.get()
    _after_response.set(None)
    for run in pending or []:
        run()  # _execute_task records a task's failure on its result; it never raises.
    return bool(pending)


request_started.connect(_request_started, dispatch_uid="helpdesk.tasks_backend.started")
request_finished.connect(_request_finished, dispatch_uid="helpdesk.tasks_backend.finished")


class AfterResponseBackend(ImmediateBackend):
    def enqueue(self, task, args, kwargs):
        pending = _after_response.get()
        if pending is None:
            return super().enqueue(task, args, kwargs)
        self.validate_task(task)
        task_result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        pending.append(partial(self._execute_task, task_result))
        return task_result
