"""The ticket lifecycle under random sequences of service calls (hypothesis stateful).

Each step calls a service as an agent, the customer, another customer, or the system;
the machine keeps its own model of what must have happened and checks the database
against it after every step.
"""

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tickets import services
from tickets.actors import Actor
from tickets.exceptions import HelpdeskError
from tickets.models import Message, Ticket, TicketEvent
from tickets.tests import factories

STATUSES = [choice.value for choice in Ticket.Status]
PRIORITIES = [choice.value for choice in Ticket.Priority]


def row(ticket: Ticket) -> dict:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {
        "status": fresh.status,
        "priority": fresh.priority,
        "subject": fresh.subject,
        "assignee": fresh.assignee_id,
        "updated_at": fresh.updated_at,
        "resolved_at": fresh.resolved_at,
        "closed_at": fresh.closed_at,
        "first_response_at": fresh.first_response_at,
        "messages": fresh.messages.count(),
        "events": fresh.events.count(),
    }


class TicketLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        organization = factories.make_organization()
        inbox = factories.make_inbox(organization)
        self.agent = factories.make_agent(organization)
        self.second_agent = factories.make_agent(organization)
        self.outsider = factories.make_agent(factories.make_organization())
        self.ticket = factories.make_ticket(inbox, actor=Actor.system("Tests"))
        other_ticket = factories.make_ticket(inbox)
        self.customer = self.ticket.customer
        self.stranger = other_ticket.customer
        # The model: every status change that succeeded, in order.
        self.expected_status_changes: list[tuple[str, str]] = []
        self.status = Ticket.Status.OPEN

    # Helpers -------------------------------------------------------------------------------

    def actor(self, who: str) -> Actor:
        return {
            "agent": Actor.agent(self.agent),
            "customer": Actor.for_customer(self.customer),
            "stranger": Actor.for_customer(self.stranger),
            "system": Actor.system("Automation"),
        }[who]

    def attempt(self, call, *, refused_ok=True):
        """Run a service call; a refusal must change nothing at all."""
        before = row(self.ticket)
        try:
            call()
        except HelpdeskError:
            assert refused_ok
            assert row(self.ticket) == before, "a refused call changed the ticket"
            return False
        return True

    def note_status(self):
        current = Ticket.objects.get(pk=self.ticket.pk).status
        if current != self.status:
            self.expected_status_changes.append((self.status, current))
            self.status = current

    # Rules ---------------------------------------------------------------------------------

    @rule(status=st.sampled_from(STATUSES), who=st.sampled_from(["agent", "customer", "stranger", "system"]))
    def change_status(self, status, who):
        before = self.status
        done = self.attempt(
            lambda: services.change_status(ticket=self.ticket, status=status, actor=self.actor(who))
        )
        if who == "stranger":
            assert not done or status == before, "another customer changed the ticket"
        if done and who == "customer" and status != before:
            assert (before, status) in {
                ("open", "closed"),
                ("in_progress", "closed"),
                ("pending", "closed"),
                ("on_hold", "closed"),
                ("resolved", "open"),
                ("resolved", "closed"),
            }, f"a customer moved {before} -> {status}"
        if done and before == "closed" and status != "closed":
            assert who in {"agent", "system"} and status == "open", "closed left other than by reopen"
        self.note_status()

    @rule(
        who=st.sampled_from(["agent", "customer", "stranger", "system"]),
        kind=st.sampled_from(["reply", "note"]),
    )
    def add_message(self, who, kind):
        before = self.status
        done = self.attempt(
            lambda: services.add_message(
                ticket=self.ticket, body="A message.", kind=kind, actor=self.actor(who)
            )
        )
        if who in {"customer", "stranger"}:
            assert not (done and kind == "note"), "a customer wrote an internal note"
            assert not (done and who == "stranger"), "another customer replied"
            assert not (done and before == "closed"), "a customer replied to a closed ticket"
        self.note_status()

    @rule(who=st.sampled_from(["agent", "second_agent", "outsider", "nobody"]))
    def assign(self, who):
        assignee = {
            "agent": self.agent,
            "second_agent": self.second_agent,
            "outsider": self.outsider,
            "nobody": None,
        }[who]
        done = self.attempt(
            lambda: services.assign(ticket=self.ticket, assignee=assignee, actor=Actor.agent(self.agent))
        )
        if who == "outsider":
            assert not done, "an agent of another organization was assigned"
        self.note_status()

    @rule()
    def customer_tries_to_assign(self):
        self.attempt(
            lambda: services.assign(ticket=self.ticket, assignee=self.agent, actor=self.actor("customer"))
        )

    @rule(priority=st.sampled_from(PRIORITIES), subject=st.sampled_from(["Fine subject", "x", "Another one"]))
    def update(self, priority, subject):
        self.attempt(
            lambda: services.update_ticket(
                ticket=self.ticket, actor=Actor.agent(self.agent), priority=priority, subject=subject
            )
        )

    @rule()
    def customer_tries_to_update(self):
        self.attempt(
            lambda: services.update_ticket(
                ticket=self.ticket, actor=self.actor("customer"), priority="urgent"
            )
        )

    # Invariants ------------------------------------------------------------------------------

    @invariant()
    def events_match_the_history_of_status_changes(self):
        recorded = list(
            TicketEvent.objects.filter(ticket=self.ticket, action=TicketEvent.Action.STATUS_CHANGED)
            .order_by("created_at", "id")
            .values_list("before", "after")
        )
        assert recorded == self.expected_status_changes

    @invariant()
    def timestamps_are_consistent(self):
        ticket = Ticket.objects.get(pk=self.ticket.pk)
        now = timezone.now()
        assert ticket.updated_at >= ticket.created_at
        assert (ticket.resolved_at is not None) == (ticket.status in {"resolved", "closed"})
        assert (ticket.closed_at is not None) == (ticket.status == "closed")
        if ticket.first_response_at is not None:
            assert ticket.created_at <= ticket.first_response_at <= now
            assert (
                ticket.messages.filter(kind=Message.Kind.REPLY, author_type=Message.AuthorType.AGENT).exists()
                or ticket.messages.filter(author_type=Message.AuthorType.SYSTEM).exists()
            )
        if ticket.resolved_at and ticket.closed_at:
            assert ticket.resolved_at <= ticket.closed_at

    @invariant()
    def only_the_owning_customer_ever_wrote(self):
        assert not Message.objects.filter(ticket=self.ticket, author_customer=self.stranger).exists()
        assert not Message.objects.filter(
            ticket=self.ticket, kind=Message.Kind.NOTE, author_type=Message.AuthorType.CUSTOMER
        ).exists()

    @invariant()
    def the_assignee_belongs_to_the_organization(self):
        assert Ticket.objects.get(pk=self.ticket.pk).assignee_id in {
            None,
            self.agent.pk,
            self.second_agent.pk,
        }


@pytest.mark.django_db
def test_the_ticket_lifecycle_keeps_its_invariants_under_random_service_calls():
    TicketLifecycle.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    TicketLifecycle.TestCase().runTest()
