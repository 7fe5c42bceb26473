"""Support addresses are verified and unique (issue 14, "Any tenant can claim any
address"): an address is used only after a link mailed to it is followed, or at once for
a domain the operator lists; the platform's own address cannot be claimed."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.models import AuditEvent
from tickets import exceptions, services
from tickets.actors import Actor
from tickets.mail import addresses
from tickets.models import Delivery, Inbox, Ticket
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    post_sendgrid,
)


@pytest.fixture
def other_owner(other_organization):
    return factories.make_agent(other_organization, email="owner@globex.test", role="owner")


@pytest.fixture
def acme_address(inbox):
    inbox.support_email = "help@acme.test"
    inbox.support_email_verified_at = inbox.created_at
    inbox.save()
    return "help@acme.test"


def verification_link():
    found = [email for email in mail.outbox if "Confirm" in email.subject]
    assert len(found) == 1, [(email.to, email.subject) for email in mail.outbox]
    return found[0], re.search(r"https?://\S+/desk/verify-address/\S+/", found[0].body)[0]


def test_another_organization_cannot_take_a_verified_address(other_organization, other_owner, acme_address):
    with pytest.raises(exceptions.InvalidInput) as refusal:
        services.create_inbox(
            organization=other_organization,
            actor=Actor.agent(other_owner),
            name="Stolen",
            prefix="ST",
            support_email="HELP@acme.test",
        )

    assert refusal.value.field == "support_email"
    assert not Inbox.objects.filter(name="Stolen").exists()


def test_the_settings_page_refuses_a_taken_address_and_changes_nothing(
    client, other_organization, other_owner, acme_address
):
    other = factories.make_inbox(other_organization, name="Globex", prefix="GLX")
    client.force_login(other_owner)

    response = client.post(
        reverse("dashboard:settings-inbox-edit", args=[other.public_id]),
        {"name": "Globex", "prefix": "GLX", "support_email": acme_address, "auto_assignment": "off"},
    )

    assert "Another inbox already uses this address." in response.content.decode()
    other.refresh_from_db()
    assert other.support_email == ""


@pytest.mark.parametrize("address", ["support@acme.test", "helpdesk@acme.test", "x@reply.acme.test"])
def test_the_platforms_own_addresses_cannot_be_claimed(organization, owner, address):
    with pytest.raises(exceptions.InvalidInput):
        services.create_inbox(
            organization=organization,
            actor=Actor.agent(owner),
            name="Mine",
            prefix="MN",
            support_email=address,
        )


def test_a_customers_address_claimed_by_another_tenant_neither_drops_nor_diverts_their_mail(
    client, inbox, other_organization, other_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
        services.create_inbox(
            organization=other_organization,
            actor=Actor.agent(other_owner),
            name="Trap",
            prefix="TRP",
            support_email="jane@example.com",
        )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        # Jane's reply is still hers (not "from our own address"), and nothing reaches
        # the claiming organization.
        post_sendgrid(client, make_email(to=addresses.reply_address(ticket), text="Still waiting."))
        post_sendgrid(client, make_email(sender="bob@example.org", to="jane@example.com", subject="Hi Jane"))

    assert ticket.messages.order_by("created_at", "id").last().body == "Still waiting."
    assert not Ticket.objects.filter(organization=other_organization).exists()


def test_an_unverified_address_gets_no_new_ticket_copies(
    inbox, organization, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.update_inbox(inbox=inbox, actor=Actor.agent(owner), support_email="victim@example.org")
    mail.outbox.clear()  # the verification link itself, the one mail that address gets
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")

    recipients = [email.to[0] for email in mail.outbox]
    assert "victim@example.org" not in recipients
    assert "support@acme.test" in recipients


def test_the_link_mailed_to_the_address_verifies_it_and_mail_to_it_then_opens_tickets(
    client, organization, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("dashboard:settings-inbox-create"),
            {
                "name": "Billing",
                "prefix": "BIL",
                "support_email": "billing@example.org",
                "auto_assignment": "off",
            },
        )
    inbox = Inbox.objects.get(prefix="BIL")
    email, link = verification_link()
    assert email.to == ["billing@example.org"]
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    assert link in email.alternatives[0].content
    assert "Unverified" in client.get(reverse("dashboard:settings-inboxes")).content.decode()
    delivery = Delivery.objects.get(kind=Delivery.Kind.ADDRESS_VERIFICATION)
    assert "/desk/verify-address/" not in delivery.body_text  # the secret link is not kept
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client, make_email(sender="bob@example.org", to="billing@example.org", subject="Before")
        )
    assert not Ticket.objects.exists()

    client.logout()
    page = client.get(link)  # a link scanner's GET verifies nothing
    inbox.refresh_from_db()
    assert page.status_code == 200 and "Confirm this address" in page.content.decode()
    assert not inbox.support_email_verified
    client.post(link)

    inbox.refresh_from_db()
    assert inbox.support_email_verified
    event = AuditEvent.objects.get(action=AuditEvent.Action.INBOX_ADDRESS_VERIFIED)
    assert (event.organization, event.changes["support_email"]) == (organization, "billing@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(sender="bob@example.org", to="billing@example.org", subject="After"))
    assert Ticket.objects.get().inbox == inbox
    client.force_login(owner)
    assert "Verified" in client.get(reverse("dashboard:settings-inboxes")).content.decode()


def test_an_address_claimed_first_by_a_squatter_still_goes_to_whoever_verifies_it(
    client, organization, owner, other_organization, other_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.create_inbox(
            organization=other_organization,
            actor=Actor.agent(other_owner),
            name="Squat",
            prefix="SQ",
            support_email="help@newco.example",
        )
    _, squatters_link = verification_link()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mine = services.create_inbox(
            organization=organization,
            actor=Actor.agent(owner),
            name="Help",
            prefix="HLP",
            support_email="help@newco.example",
        )
    _, my_link = verification_link()

    client.post(my_link)
    response = client.post(squatters_link)

    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.support_email_verified
    assert not Inbox.objects.get(prefix="SQ").support_email_verified


def test_a_tampered_link_or_one_for_a_replaced_address_verifies_nothing(
    client, inbox, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.update_inbox(inbox=inbox, actor=Actor.agent(owner), support_email="old@example.org")
    _, old_link = verification_link()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_inbox(inbox=inbox, actor=Actor.agent(owner), support_email="new@example.org")

    assert client.post(old_link).status_code == 400
    assert client.post(old_link[:-3] + "xx/").status_code == 400
    inbox.refresh_from_db()
    assert not inbox.support_email_verified


def test_changing_a_verified_address_needs_the_new_one_verified(inbox, owner, acme_address):
    services.update_inbox(inbox=inbox, actor=Actor.agent(owner), support_email="other@example.org")

    inbox.refresh_from_db()
    assert not inbox.support_email_verified


def test_the_operator_listed_domains_are_verified_at_once_and_audited(
    organization, owner, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL_VERIFIED_DOMAINS = ["acme.test"]

    with django_capture_on_commit_callbacks(execute=True):
        inbox = services.create_inbox(
            organization=organization,
            actor=Actor.agent(owner),
            name="Sales",
            prefix="SAL",
            support_email="sales@acme.test",
        )

    assert inbox.support_email_verified
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INBOX_ADDRESS_VERIFIED).count() == 1
    assert mail.outbox == []


def test_the_link_can_be_sent_again_from_the_inbox_settings(
    client, inbox, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.update_inbox(inbox=inbox, actor=Actor.agent(owner), support_email="billing@example.org")
    mail.outbox.clear()
    client.force_login(owner)

    page = client.get(reverse("dashboard:settings-inbox-edit", args=[inbox.public_id])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:settings-inbox-send-verification", args=[inbox.public_id]))

    assert "Send the verification link again" in page
    assert verification_link()[0].to == ["billing@example.org"]


# Upgrading an installation ------------------------------------------------------------

BEFORE = [
    ("tickets", "0009_add_inbox_support_email_verified_at"),
    ("accounts", "0010_add_inbox_address_verified_action"),
]
AFTER = [("tickets", "0011_add_inbox_unique_verified_support_email")]


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_verifies_each_address_in_use_once_oldest_first_and_logs_the_rest():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state(BEFORE).apps
        Organization = old_apps.get_model("accounts", "Organization")
        OldInbox = old_apps.get_model("tickets", "Inbox")
        acme = Organization.objects.create(name="Acme", slug="acme-upgrade")
        globex = Organization.objects.create(name="Globex", slug="globex-upgrade")
        first = OldInbox.objects.create(
            organization=acme, name="A", prefix="A", support_email="help@acme.test"
        )
        second = OldInbox.objects.create(
            organization=globex, name="G", prefix="G", support_email="Help@Acme.test"
        )
        plain = OldInbox.objects.create(organization=globex, name="P", prefix="P", support_email="")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        # Only the columns that exist at this state (later migrations add others).
        upgraded = Inbox.objects.filter(pk__in=[first.pk, second.pk, plain.pk]).only(
            "pk", "support_email", "support_email_verified_at"
        )
        inboxes = {inbox.pk: inbox for inbox in upgraded}
        assert inboxes[first.pk].support_email_verified
        assert inboxes[second.pk].support_email == "Help@Acme.test"  # kept, not lost
        assert not inboxes[second.pk].support_email_verified
        assert inboxes[plain.pk].support_email_verified_at is None
        logged = AuditEvent.objects.get(organization_id=globex.pk)
        assert "older inbox" in logged.changes["reason"]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
