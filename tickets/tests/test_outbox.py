"""The outbox: a transaction's tasks are one task row, written with the change."""

import pytest
from django.db import transaction
from django.tasks import task
from django_tasks_db.models import DBTaskResult

from tickets import outbox

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

heard: list = []


@task()
def remember(value) -> None:
    heard.append(value)


@task()
def remember_all(values: list) -> None:
    heard.append(list(values))


@task()
def break_down(value) -> None:
    raise RuntimeError(f"broken by {value}")


@task()
def hand_on(value) -> None:
    outbox.enqueue_items_with_change(remember_all, [value])


@task()
def hand_on_then_break(value) -> None:
    outbox.enqueue_items_with_change(remember_all, [value])
    raise RuntimeError(f"broken after handing on {value}")


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS
    heard.clear()


def _calls_of(row: DBTaskResult) -> list:
    assert row.task_path == "tickets.outbox.run"
    (calls,) = row.args_kwargs["args"]
    return calls


@pytest.mark.django_db
def test_the_tasks_of_one_transaction_are_one_row_and_batches_join_after_the_rest():
    with outbox.atomic():
        outbox.enqueue_items_with_change(remember_all, ["customer.created"])
        outbox.enqueue_with_change(remember, 7)
        outbox.enqueue_items_with_change(remember_all, ["ticket.created"])

    (row,) = DBTaskResult.objects.all()
    # The batches (the feed's events, trigger counts) lock rows shared by the organization
    # until the worker's run commits: they run last, after the mails are rendered.
    assert _calls_of(row) == [
        ["tickets.tests.test_outbox.remember", [7]],
        ["tickets.tests.test_outbox.remember_all", [["customer.created", "ticket.created"]]],
    ]


@pytest.mark.django_db
def test_one_call_is_written_as_its_own_task():
    with outbox.atomic():
        outbox.enqueue_with_change(remember, 7)

    (row,) = DBTaskResult.objects.all()
    assert (row.task_path, row.args_kwargs["args"]) == ("tickets.tests.test_outbox.remember", [7])


@pytest.mark.django_db
def test_a_rolled_back_transaction_writes_nothing():
    with pytest.raises(RuntimeError), outbox.atomic():
        outbox.enqueue_with_change(remember, 7)
        raise RuntimeError("abandoned")

    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_a_task_of_a_savepoint_rolled_back_inside_the_block_is_dropped():
    with outbox.atomic():
        outbox.enqueue_with_change(remember, "kept")
        try:
            with transaction.atomic():
                outbox.enqueue_with_change(remember, "undone")
                outbox.enqueue_items_with_change(remember_all, ["undone"])
                raise RuntimeError("the savepoint rolls back")
        except RuntimeError:
            pass
        outbox.enqueue_items_with_change(remember_all, ["kept"])

    (row,) = DBTaskResult.objects.all()
    assert _calls_of(row) == [
        ["tickets.tests.test_outbox.remember", ["kept"]],
        ["tickets.tests.test_outbox.remember_all", [["kept"]]],
    ]


@pytest.mark.django_db
def test_nested_blocks_write_once_at_the_outer_end():
    with outbox.atomic():
        with outbox.atomic():
            outbox.enqueue_with_change(remember, 1)
        assert not DBTaskResult.objects.exists()
        outbox.enqueue_with_change(remember, 2)

    (row,) = DBTaskResult.objects.all()
    assert [args for _, args in _calls_of(row)] == [[1], [2]]


@pytest.mark.django_db
def test_in_the_worker_the_calls_own_tasks_join_one_and_a_failed_call_takes_back_its_own():
    calls = [
        ["tickets.tests.test_outbox.hand_on", ["support copy"]],
        ["tickets.tests.test_outbox.hand_on_then_break", ["undone"]],
        ["tickets.tests.test_outbox.hand_on", ["acknowledgement"]],
    ]

    with pytest.raises(outbox.CallsFailed):
        outbox.run.call(calls)

    (row,) = DBTaskResult.objects.all()
    assert (row.task_path, row.args_kwargs["args"]) == (
        "tickets.tests.test_outbox.remember_all",
        [["support copy", "acknowledgement"]],
    )


@pytest.mark.django_db
def test_the_worker_runs_every_call_and_a_failure_stops_no_other():
    calls = [
        ["tickets.tests.test_outbox.remember", [1]],
        ["tickets.tests.test_outbox.break_down", [2]],
        ["tickets.tests.test_outbox.remember_all", [[3, 4]]],
    ]

    with pytest.raises(outbox.CallsFailed, match="1 of 3 call"):
        outbox.run.call(calls)

    assert heard == [1, [3, 4]]
