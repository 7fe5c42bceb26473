"""The work a change hands to the worker, written with the change (the outbox).

``enqueue_with_change`` hands a task to the backend as part of the transaction making the
change: with the database backend the task row commits with the change or not at all, so
no crash between the two can lose it; other backends get the task after commit, so that
an immediate run never happens inside the transaction and a Redis worker never looks for
rows not yet committed.

Inside ``atomic()`` (the services that publish domain events wrap their transaction in
it), the tasks of the whole transaction — each subscriber's, for each event — are
collected and written as one task, ``run``, just before the commit: a ticket created with
mail on is one task row for its notification, its webhooks and its feed events, instead
of one per subscriber and per event, each with its own insert. ``run`` calls them in
order in the worker; one that fails is logged and does not stop the others.
"""

import logging
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial

from django.db import connection, transaction
from django.tasks import Task, task
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class _Marker:
    """Registered with transaction.on_commit beside a call: Django forgets it when a
    savepoint around the enqueue is rolled back, and so must the outbox. Nothing to do
    once the transaction commits."""

    def __call__(self) -> None:
        pass


@dataclass
class _Call:
    task_path: str
    args: list
    marker: _Marker = field(default_factory=_Marker)
    # The items of a batch call (enqueue_items_with_change), extended by later events.
    batched: bool = False


_pending: ContextVar[list[_Call] | None] = ContextVar("tickets_outbox", default=None)


class CallsFailed(Exception):
    """Some calls of an outbox task failed (each is in the log with its traceback)."""


@task()
def run(calls: list[list]) -> int:
    """Run the calls one transaction handed over (``[task_path, args]`` each), in order.

    One that fails does not stop the others; the task then ends failed, naming them.
    Returns how many calls ran.
    """
    failed = []
    # The calls' own tasks join too: the mails of a new ticket's support copy and of its
    # acknowledgement go out in one task, over one connection to the provider. Each call
    # has a savepoint, so one that fails takes back only its own work and tasks.
    with atomic():
        for task_path, args in calls:
            try:
                with transaction.atomic():
                    import_string(task_path).call(*args)
            except Exception:
                logger.exception("Outbox call %s%r failed", task_path, tuple(args))
                failed.append(task_path)
    if failed:
        raise CallsFailed(f"{len(failed)} of {len(calls)} call(s) failed: {', '.join(failed)}")
    return len(calls)


def collecting() -> bool:
    """Whether tasks enqueued now join the current ``atomic()`` block's one task."""
    return _pending.get() is not None and connection.in_atomic_block


def enqueue_with_change(task: Task, *args) -> None:
    """Enqueue ``task`` as part of the change the current transaction is making."""
    if collecting():
        call = _Call(task.module_path, list(args))
        transaction.on_commit(call.marker)
        _pending.get().append(call)
    elif stores_tasks_in_the_database(task):
        task.enqueue(*args)
    else:
        transaction.on_commit(partial(task.enqueue, *args), robust=True)


def enqueue_items_with_change(task: Task, items: Iterable) -> None:
    """As ``enqueue_with_change`` for a task whose one argument is a list: inside
    ``atomic()`` the items of every such call join one call, so the transaction's events
    (or mails) reach ``task`` together."""
    items = list(items)
    if collecting():
        call = _Call(task.module_path, [items], batched=True)
        transaction.on_commit(call.marker)
        _pending.get().append(call)
        return
    enqueue_with_change(task, items)


@contextmanager
def atomic():
    """``transaction.atomic()`` whose tasks are written as one, just before it commits.

    Nested inside another ``atomic()`` it is a plain savepoint and the outer block writes.
    Inside a caller's own transaction (not an outbox's) the task row is written at the end
    of this block, still inside that transaction.
    """
    if _pending.get() is not None:
        with transaction.atomic():
            yield
        return
    token = _pending.set([])
    try:
        with transaction.atomic():
            yield
            calls = _kept(_pending.get())
            _pending.set(None)
            _write(calls)
    finally:
        _pending.reset(token)


def _kept(calls: list[_Call]) -> list[_Call]:
    # A call enqueued inside a savepoint that was rolled back (the block went on) is gone
    # from Django's commit hooks: the change it belonged to was undone.
    hooks = {id(hook) for _, hook, _ in connection.run_on_commit}
    return [call for call in calls if id(call.marker) in hooks]


def _joined(calls: list[_Call]) -> list[_Call]:
    """The batch calls of one task joined into its first, in order. Kept apart until now so
    that a savepoint rolled back takes back its own items only.

    The batches come after the single calls: they record what happened (the feed's events,
    a trigger's count of uses) and each locks a row every change of the organization shares
    (its event stream, the trigger) until the worker's run commits. Last, they hold it for
    the end of the run only, not while the run's mails are rendered, so several workers do
    not queue behind one another."""
    first_batch: dict[str, _Call] = {}
    singles, batches = [], []
    for call in calls:
        if not call.batched:
            singles.append(call)
        elif call.task_path in first_batch:
            first_batch[call.task_path].args[0].extend(call.args[0])
        else:
            first_batch[call.task_path] = call
            batches.append(call)
    return [*singles, *batches]


def _write(calls: list[_Call]) -> None:
    calls = _joined(calls)
    if not calls:
        return
    if len(calls) == 1:
        # One call: the task itself, as it would be enqueued outside an outbox.
        enqueue_with_change(import_string(calls[0].task_path), *calls[0].args)
        return
    enqueue_with_change(run, [[call.task_path, call.args] for call in calls])


def stores_tasks_in_the_database(task: Task) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)
