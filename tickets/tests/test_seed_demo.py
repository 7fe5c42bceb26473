"""`manage.py seed_demo`: a lived-in demo, built through the services, whose printed key works."""

import io
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, Membership, Organization, User
from tickets import notifications
from tickets.models import Customer, Delivery, Inbox, Message, Ticket, TicketEvent


def seed(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def seed_json(*args) -> dict:
    out, _ = seed("--json", *args)
    return json.loads(out)  # the whole of stdout is one JSON object


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


@pytest.mark.django_db
def test_json_output_is_one_object_whose_api_key_creates_a_ticket():
    demo = seed_json()

    assert demo["base_url"] == "http://testserver"
    assert {inbox["prefix"]: inbox["daily_limit_per_customer"] for inbox in demo["inboxes"]} == {
        "SUP": None,
        "INV": None,
        "PAY": 2,
    }
    agent_token = demo["agent"].pop("api_token")
    assert demo["agent"] == {
        "email": "agent@acme.test",
        "password": "demo-password-123",
        "name": "Alice Agent",
    }
    assert demo["owner"]["email"] == "owner@acme.test"
    assert demo["other_organization"]["api_key"].startswith("hdk_")
    response = key_client(demo["api_key"]).post(
        "/api/v1/tickets",
        {
            "customer": {"email": "john@acme.com", "external_id": "user_42"},
            "subject": "Payment failed for order #12345",
            "message": "Payment attempt failed with CARD_DECLINED.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    # The default inbox does not auto-assign, so an appbox-style create answers "open".
    assert body["status"] == "open"
    assert body["reference"].startswith("SUP-")
    assert body["customer"]["external_id"] == "user_42"
    # The default inbox has no daily limit: business events are never refused as a third of the day.
    for number in range(3):
        again = key_client(demo["api_key"]).post(
            "/api/v1/tickets",
            {"customer": {"external_id": "user_42"}, "subject": f"Question {number}", "message": "Hi again"},
            format="json",
        )
        assert again.status_code == 201, again.json()
    # The printed agent token reads the agent API.
    as_agent = APIClient()
    as_agent.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token}")
    assert as_agent.get("/api/v1/tickets").status_code == 200


@pytest.mark.django_db
def test_each_inbox_id_in_the_output_accepts_tickets_with_the_demo_key():
    demo = seed_json()

    for inbox in demo["inboxes"]:
        response = key_client(demo["api_key"]).post(
            "/api/v1/tickets",
            {
                "inbox": inbox["public_id"],
                "customer": {"email": "newcomer@example.test"},
                "subject": f"Hello {inbox['name']}",
                "message": "First contact",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["reference"].startswith(inbox["prefix"] + "-")


@pytest.mark.django_db
def test_the_other_organizations_key_cannot_see_the_demo_organizations_tickets():
    demo = seed_json()
    acme_ticket = Ticket.objects.filter(organization__slug="acme").first()
    other = key_client(demo["other_organization"]["api_key"])

    assert other.get(f"/api/v1/tickets/{acme_ticket.public_id}").status_code == 404
    listed = other.get("/api/v1/tickets", {"per_page": 100}).json()["data"]
    assert listed and all(ticket["reference"].startswith("GLX-") for ticket in listed)


@pytest.mark.django_db
def test_the_demo_is_about_fifty_lived_in_tickets_built_through_the_services():
    demo = seed_json()

    acme = Organization.objects.get(slug="acme")
    tickets = Ticket.objects.filter(organization=acme)
    assert 45 <= tickets.count() <= 60
    assert Ticket.objects.filter(organization__slug="globex").count() >= 3
    # Every ticket was opened by the create service (it records the "created" event) ...
    assert TicketEvent.objects.filter(ticket__organization=acme, action="created").count() == tickets.count()
    # ... with consecutive numbers per inbox, as the service allocates them.
    for inbox in Inbox.objects.filter(organization=acme):
        numbers = sorted(inbox.tickets.values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
    assert set(tickets.values_list("status", flat=True)) == {"open", "in_progress", "resolved", "closed"}
    assert len(set(tickets.values_list("priority", flat=True))) >= 4
    assert len(set(tickets.values_list("category", flat=True))) >= 4
    messages = Message.objects.filter(ticket__organization=acme)
    assert messages.count() >= 2 * tickets.count()
    assert messages.filter(kind="note").count() >= 5
    assert messages.filter(author_type="agent", kind="reply").count() >= 20
    assert tickets.filter(assignee__email="agent@acme.test").exists()
    assert tickets.filter(assignee__email="senior@acme.test").exists()
    assert tickets.filter(assignee__isnull=True).exists()
    # Its saved replies are shared macros (a model of the automation app, named, not imported).
    assert apps.get_model("automation", "Macro").objects.filter(organization=acme, owner=None).count() >= 3
    assert demo["tag"]["name"] == "billing"

    john = Customer.objects.get(organization=acme, external_id="user_42")
    assert john.email == "john@acme.com"
    assert john.metadata["plan"] == "pro" and "token_balance" in john.metadata
    assert john.tickets.filter(tags__isnull=False).exists()
    customer_token = demo["customer"].pop("token")
    assert demo["customer"] == {"email": "john@acme.com", "external_id": "user_42", "id": john.public_id}
    mine = APIClient()
    mine.credentials(HTTP_AUTHORIZATION=f"Bearer {customer_token}")
    listed = mine.get("/api/v1/me/tickets")
    assert listed.status_code == 200
    assert {ticket["id"] for ticket in listed.json()["data"]} == set(
        Ticket.objects.filter(customer=john).values_list("public_id", flat=True)
    )


@pytest.mark.django_db
def test_demo_dates_are_spread_over_the_last_thirty_days_and_never_in_the_future():
    seed_json()

    now = timezone.now()
    tickets = Ticket.objects.all()
    oldest = min(tickets.values_list("created_at", flat=True))
    assert now - timedelta(days=32) < oldest < now - timedelta(days=7)
    assert not Message.objects.filter(created_at__gt=now).exists()
    assert not TicketEvent.objects.filter(created_at__gt=now).exists()
    for ticket in tickets.prefetch_related("messages"):
        times = [message.created_at for message in ticket.messages.all()]
        assert times[0] == ticket.created_at
        assert ticket.updated_at >= times[-1]
        if ticket.first_response_at is not None:
            assert ticket.first_response_at > ticket.created_at
        if ticket.status == "resolved":
            assert ticket.resolved_at is not None and ticket.resolved_at >= ticket.created_at


@pytest.mark.django_db
def test_seeding_sends_no_email_and_restores_the_notification_hooks():
    originals = (notifications.ticket_created, notifications.message_added)

    seed_json()

    assert mail.outbox == []
    assert not Delivery.objects.exists()
    assert (notifications.ticket_created, notifications.message_added) == originals


@pytest.mark.django_db
def test_the_printed_people_can_sign_in_where_the_output_says():
    demo = seed_json()

    for person in (demo["agent"], demo["second_agent"], demo["owner"], demo["admin"]):
        # Through the sign-in page, as a person does (axes guards authenticate with the request).
        response = Client().post(
            "/accounts/login/", {"username": person["email"], "password": person["password"]}
        )
        assert response.status_code == 302, person["email"]
    admin = User.objects.get(email=demo["admin"]["email"])
    assert admin.is_staff and admin.is_superuser
    agent = Membership.objects.get(user__email="agent@acme.test", organization__slug="acme")
    assert (agent.tier, agent.is_available) == ("n1", True)
    assert Membership.objects.get(user__email="senior@acme.test").tier == "n2"
    assert demo["urls"]["dashboard"] == "http://testserver/desk/"
    assert demo["urls"]["api_docs"] == "http://testserver/api/docs/"


@pytest.mark.django_db
def test_if_new_does_nothing_when_the_demo_exists():
    seed_json()
    counts = (Ticket.objects.count(), Message.objects.count(), ApiKey.objects.count(), User.objects.count())

    out, err = seed("--if-new")
    json_out, _ = seed("--if-new", "--json")

    assert out == "" and json_out == ""
    assert "already present" in err and err.count("\n") == 1
    assert (
        Ticket.objects.count(),
        Message.objects.count(),
        ApiKey.objects.count(),
        User.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_if_new_seeds_a_new_database():
    out, _ = seed("--if-new")

    assert "agent@acme.test" in out
    assert Ticket.objects.filter(organization__slug="acme").count() >= 45


@pytest.mark.django_db
def test_running_twice_duplicates_nothing_and_prints_a_fresh_working_key():
    first = seed_json()
    counts = (Ticket.objects.count(), Message.objects.count(), Customer.objects.count(), User.objects.count())
    User.objects.filter(email="agent@acme.test").update(password="changed")

    second = seed_json()

    assert second["created"] is False and first["created"] is True
    assert (
        Ticket.objects.count(),
        Message.objects.count(),
        Customer.objects.count(),
        User.objects.count(),
    ) == counts
    assert second["api_key"] != first["api_key"]
    for key in (first["api_key"], second["api_key"]):  # earlier demo keys keep working
        assert key_client(key).get("/api/v1/tickets").status_code == 200
    assert [inbox["public_id"] for inbox in second["inboxes"]] == [
        inbox["public_id"] for inbox in first["inboxes"]
    ]
    response = Client().post(
        "/accounts/login/", {"username": "agent@acme.test", "password": "demo-password-123"}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_readable_output_names_the_sign_in_the_key_and_the_urls():
    out, _ = seed()

    assert "http://testserver/desk/" in out
    assert "agent@acme.test" in out and "demo-password-123" in out
    assert "http://testserver/admin/" in out and "http://testserver/api/docs/" in out
    key = next(word for word in out.split() if word.startswith("hdk_"))
    assert key_client(key).get("/api/v1/tickets").status_code == 200
    assert Inbox.objects.get(prefix="SUP").public_id in out


@pytest.mark.django_db
def test_the_billing_inbox_auto_assigns_new_tickets_to_the_available_n1_agent():
    demo = seed_json()
    billing = next(inbox for inbox in demo["inboxes"] if inbox["prefix"] == "INV")

    response = key_client(demo["api_key"]).post(
        "/api/v1/tickets",
        {
            "inbox": billing["public_id"],
            "customer": {"external_id": "user_42"},
            "subject": "Payment failed for order #12345",
            "message": "Payment attempt failed with CARD_DECLINED.",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "in_progress"
    assert Ticket.objects.get(public_id=response.json()["id"]).assignee.email == "agent@acme.test"


@pytest.mark.django_db
def test_who_spoke_last_follows_the_demo_timeline_so_the_queue_shows_real_waits():
    """The queue's "waiting 2 d · customer replied 2 days ago" reads these columns: they
    are the dated messages' times, not the moment the demo was seeded."""
    seed_json()

    waiting_tickets = 0
    for ticket in Ticket.objects.prefetch_related("messages"):
        public = [message for message in ticket.messages.all() if message.kind == Message.Kind.REPLY]
        from_customer = [m.created_at for m in public if m.author_type == Message.AuthorType.CUSTOMER]
        from_us = [m.created_at for m in public if m.author_type != Message.AuthorType.CUSTOMER]
        assert ticket.last_customer_message_at == max(from_customer, default=None)
        assert ticket.last_agent_reply_at == max(from_us, default=None)
        if ticket.customer_waiting_since is not None:
            waiting_tickets += 1
            assert ticket.customer_waiting_since in from_customer
    assert waiting_tickets > 0
    oldest_wait = min(
        Ticket.objects.exclude(customer_waiting_since=None).values_list("customer_waiting_since", flat=True)
    )
    assert oldest_wait < timezone.now() - timedelta(days=1)


@pytest.mark.django_db
def test_readable_output_points_at_the_command_that_prints_it_again_as_written():
    """`python manage.py seed_demo --json` alone fails outside the venv and without
    DEBUG=1; the Makefile's target brings both (README)."""
    out, _ = seed()

    assert "make demo-credentials" in out
    assert "python manage.py seed_demo --json" not in out
