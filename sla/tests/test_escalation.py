"""Warnings and breaches: fired once per ticket and target, told to the right people,
caught up after downtime, and exactly once with two schedulers on PostgreSQL."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sla import escalation, services
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Notification, TicketEvent
from tickets.tests import factories

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def fired_events(ticket):
    return list(
        TicketEvent.objects.filter(
            ticket=ticket, action__in=[TicketEvent.Action.SLA_WARNING, TicketEvent.Action.SLA_BREACHED]
        )
        .order_by("id")
        .values_list("action", "field")
    )


@pytest.fixture(autouse=True)
def sending(settings):
    settings.SUPPORT_EMAIL_SENDER = "console"


@pytest.fixture
def policy(make_policy):
    return make_policy(
        targets={"first_reply_minutes": 60, "resolution_minutes": 600},
        escalation={"warning_percent": 80, "raise_priority_to": "urgent"},
    )


def run(at, capture):
    with capture(execute=True):
        return escalation.escalate_due(now=at)


@pytest.mark.django_db
def test_a_warning_then_a_breach_each_fire_once_and_reach_the_managers(
    inbox, owner, policy, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox, subject="Printer on fire")
    ticket.refresh_from_db()
    assert ticket.sla_check_at == NOW + timedelta(minutes=48)  # 80 % of 60 minutes

    assert run(NOW + timedelta(minutes=47), django_capture_on_commit_callbacks) == 0
    mail.outbox.clear()
    assert run(NOW + timedelta(minutes=48), django_capture_on_commit_callbacks) == 1
    assert run(NOW + timedelta(minutes=50), django_capture_on_commit_callbacks) == 0
    assert fired_events(ticket) == [("sla_warning", "first_reply")]
    assert [n.text for n in Notification.objects.filter(user=owner)] == [
        f"{ticket.reference}: the first reply target is due soon: Printer on fire"
    ]
    [warning] = mail.outbox
    assert warning.to == [owner.email]
    assert warning.subject == f"[{ticket.reference}] SLA warning: first reply · Printer on fire"
    assert "is close to its first reply target" in warning.body
    assert "due Wed 4 Mar 2026, 10:00 UTC." in warning.body  # readable, not an ISO timestamp
    assert "is close to its first reply target" in warning.alternatives[0][0]

    ticket.refresh_from_db()
    assert ticket.sla_check_at == NOW + timedelta(minutes=60)
    assert run(NOW + timedelta(minutes=61), django_capture_on_commit_callbacks) == 1
    assert run(NOW + timedelta(minutes=62), django_capture_on_commit_callbacks) == 0
    assert fired_events(ticket) == [("sla_warning", "first_reply"), ("sla_breached", "first_reply")]
    ticket.refresh_from_db()
    assert ticket.sla_breached == ["first_reply"]
    assert ticket.priority == "urgent"  # raised by the policy
    assert "missed its first reply target" in mail.outbox[-1].body


@pytest.mark.django_db
def test_an_assigned_ticket_warns_its_assignee_only(
    inbox, owner, agent, policy, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox)
    ticket_services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    Notification.objects.all().delete()
    run(NOW + timedelta(minutes=50), django_capture_on_commit_callbacks)
    assert list(Notification.objects.values_list("user_id", flat=True)) == [agent.pk]


@pytest.mark.django_db
def test_after_downtime_a_missed_breach_fires_once_without_its_stale_warning(
    inbox, owner, policy, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox)
    assert run(NOW + timedelta(hours=3), django_capture_on_commit_callbacks) == 1
    assert fired_events(ticket) == [("sla_breached", "first_reply")]
    ticket.refresh_from_db()
    # The resolution target still runs: its warning comes next.
    assert ticket.sla_check_at == NOW + timedelta(minutes=480)


@pytest.mark.django_db
def test_a_reply_in_time_fires_nothing(
    inbox, agent, policy, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox)
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Hello")
    assert run(NOW + timedelta(minutes=70), django_capture_on_commit_callbacks) == 0
    assert fired_events(ticket) == []


@pytest.mark.django_db
def test_after_its_policy_is_deleted_a_ticket_answered_in_time_is_not_breached(
    inbox, owner, agent, policy, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox)
    services.delete_policy(policy=policy, actor=Actor.agent(owner))
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Hello")
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="resolved")
    assert run(NOW + timedelta(hours=12), django_capture_on_commit_callbacks) == 0
    assert fired_events(ticket) == []
    ticket.refresh_from_db()
    assert (ticket.sla_breached, ticket.sla_due_at, ticket.sla_check_at) == ([], None, None)


@pytest.mark.django_db
def test_the_command_runs_one_pass(inbox, policy, time_machine, capsys):
    time_machine.move_to(NOW, tick=False)
    factories.make_ticket(inbox)
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    call_command("escalate_sla")
    assert "1 SLA warning(s)/breach(es) fired." in capsys.readouterr().out


def _database_url() -> str:
    settings_dict = connection.settings_dict
    return f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_in_two_processes_fire_each_breach_exactly_once(inbox, owner, make_policy):
    import os

    from django.conf import settings

    make_policy(targets={"first_reply_minutes": 1, "resolution_minutes": 2})
    # Opened long ago (in Python's clock, which the schedulers read): every target is due.
    created = timezone.now() - timedelta(hours=1)
    import time_machine

    with time_machine.travel(created, tick=False):
        tickets = [factories.make_ticket(inbox, subject=f"Old {n}") for n in range(40)]
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "SUPPORT_EMAIL_SENDER": "none",
        "TASKS_BACKEND": "database",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "escalate_sla"]
    processes = [
        subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    fired = sum(int(output.split()[0]) for output in outputs)
    assert fired == 2 * len(tickets)
    for ticket in tickets:
        assert sorted(fired_events(ticket)) == [
            ("sla_breached", "first_reply"),
            ("sla_breached", "resolution"),
        ]
        ticket.refresh_from_db()
        assert ticket.sla_check_at is None
    # The notifications went into the task queue once per event, too.
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path="tickets.notifications.notify_sla").count() == 2 * len(
        tickets
    )


@pytest.mark.django_db
def test_a_breach_that_raises_the_priority_into_another_policy_is_not_told_twice(
    inbox, owner, make_policy, time_machine, django_capture_on_commit_callbacks
):
    make_policy(
        "Urgent", position=0, conditions={"priority": ["urgent"]}, targets={"first_reply_minutes": 15}
    )
    make_policy(
        "Everyone",
        position=1,
        targets={"first_reply_minutes": 60},
        escalation={"raise_priority_to": "urgent"},
    )
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox)
    assert run(NOW + timedelta(minutes=61), django_capture_on_commit_callbacks) == 1
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.sla_policy.name) == ("urgent", "Urgent")
    assert run(NOW + timedelta(minutes=62), django_capture_on_commit_callbacks) == 0
    assert fired_events(ticket) == [("sla_breached", "first_reply")]
