"""An agent starts a conversation by email (issue 16, item 7): the agent's message opens
the ticket, goes to the customer from the inbox, and the customer's emailed answer lands
on that ticket."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.mail import addresses
from tickets.models import Delivery, Message, Ticket
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    INBOUND_DOMAIN,
    mail_settings,  # noqa: F401 - a provider, an inbound domain and webhook credentials
    make_email,
    post_sendgrid,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(organization):
    return factories.make_inbox(organization, name="Sales", prefix="SAL", support_email="sales@acme.test")


def start(inbox, agent, **overrides) -> Ticket:
    values = {
        "inbox": inbox,
        "customer": services.CustomerData(email="jane@example.com", name="Jane Doe"),
        "subject": "Your quote for 20 seats",
        "message": "Hello Jane,\n\nhere is the **quote** you asked for at the fair.",
        "channel": Ticket.Channel.EMAIL,
        "outbound": True,
        "actor": Actor.agent(agent),
    }
    ticket, _ = services.create_ticket(**{**values, **overrides})
    return ticket


def test_the_agents_message_opens_a_pending_ticket_assigned_to_them(sales, agent, mail_settings):  # noqa: F811
    ticket = start(sales, agent)

    assert ticket.status == Ticket.Status.PENDING
    assert ticket.assignee == agent
    assert ticket.customer_waiting_since is None and ticket.last_customer_message_at is None
    assert ticket.first_response_at is not None and ticket.last_agent_reply_at is not None
    first = ticket.messages.get()
    assert (first.author_type, first.author_user, first.kind) == (
        Message.AuthorType.AGENT,
        agent,
        Message.Kind.REPLY,
    )
    assert ticket.events.get(action="created").actor_user == agent


def test_the_customer_gets_the_message_from_the_inbox_and_nobody_else_is_mailed(
    sales,
    agent,
    mail_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = start(sales, agent)

    assert [email.to for email in mail.outbox] == [["jane@example.com"]]
    email = mail.outbox[0]
    assert email.subject == f"[{ticket.reference}] Your quote for 20 seats"
    assert email.from_email == '"Alice Agent (Acme)" <sales@acme.test>'
    assert email.reply_to == [addresses.reply_address(ticket)]
    assert "here is the **quote** you asked for" in email.body
    assert "<strong>quote</strong>" in email.alternatives[0].content
    assert email.extra_headers["Message-ID"] == Delivery.objects.get(ticket=ticket).message_id_header
    delivery = Delivery.objects.get(ticket=ticket)
    assert (delivery.kind, delivery.status) == (Delivery.Kind.AGENT_REPLY, Delivery.Status.SENT)


def test_an_inbox_address_on_another_domain_than_the_sender_is_not_used_as_from(
    organization,
    agent,
    mail_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    # The provider sends for acme.test only: another domain's From would fail SPF/DKIM.
    elsewhere = factories.make_inbox(
        organization, name="Other", prefix="OTH", support_email="help@other.test"
    )
    with django_capture_on_commit_callbacks(execute=True):
        start(elsewhere, agent)

    assert mail.outbox[0].from_email.endswith("<helpdesk@acme.test>")


def test_the_customers_emailed_answer_lands_on_the_ticket_and_reopens_it(
    client,
    sales,
    agent,
    mail_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = start(sales, agent)
    sent = mail.outbox[0]
    mail.outbox.clear()

    # Jane's client answers the Message-ID we sent; she writes to the inbox's own address
    # (her client ignored Reply-To), so only the threading headers tie it to the ticket.
    answer = make_email(
        sender="Jane Doe <jane@example.com>",
        to="sales@acme.test",
        subject=f"Re: {sent.subject}",
        text="Thanks, 20 seats it is.",
        headers={
            "In-Reply-To": sent.extra_headers["Message-ID"],
            "References": sent.extra_headers["References"],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, answer).status_code == 200

    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    last = ticket.messages.order_by("created_at", "id").last()
    assert (last.author_type, last.body) == (Message.AuthorType.CUSTOMER, "Thanks, 20 seats it is.")
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.customer_waiting_since is not None


def test_the_answer_to_the_reply_address_lands_on_the_ticket(
    client,
    sales,
    agent,
    mail_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = start(sales, agent)
    reply_to = mail.outbox[0].reply_to[0]
    assert reply_to.endswith(f"@{INBOUND_DOMAIN}")

    answer = make_email(to=reply_to, subject="Re: your quote", text="Can we make it 25?", message_id=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, answer).status_code == 200

    assert ticket.messages.filter(body="Can we make it 25?", author_customer=ticket.customer).exists()


def test_only_an_agent_starts_a_conversation(sales, agent):
    customer = factories.make_ticket(sales, email="jane@example.com").customer
    with pytest.raises(PermissionDenied):
        start(sales, agent, actor=Actor.for_customer(customer))
    with pytest.raises(PermissionDenied):
        start(sales, agent, actor=Actor.system("Import"))
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "address",
    ["helpdesk@acme.test", "SALES@acme.test", "reply+01abc-c-0123456789ab@reply.acme.test"],
)
def test_our_own_addresses_are_refused_and_nothing_is_opened(sales, agent, mail_settings, address):  # noqa: F811
    with pytest.raises(InvalidInput) as refused:
        start(sales, agent, customer=services.CustomerData(email=address))
    assert refused.value.field == "customer.email"
    assert not Ticket.objects.exists()


def test_a_customer_known_only_by_external_id_cannot_be_emailed(sales, agent):
    with pytest.raises(InvalidInput):
        start(sales, agent, customer=services.CustomerData(external_id="usr_1"))
    assert not Ticket.objects.exists()


def test_without_assign_on_reply_the_ticket_stays_unassigned(organization, agent):
    inbox = factories.make_inbox(organization, name="Quiet", prefix="QUI", assign_on_reply=False)
    assert start(inbox, agent).assignee is None


# The dashboard's form -----------------------------------------------------------------


def test_an_agent_sends_the_first_email_from_the_dashboard(
    agent_client,
    sales,
    agent,
    mail_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    page = agent_client.get(reverse("dashboard:new_conversation"))
    assert page.status_code == 200
    submission = page.context["form"].initial["submission"]

    form = {
        "email": "jane@example.com",
        "name": "Jane Doe",
        "inbox": sales.public_id,
        "subject": "Your quote for 20 seats",
        "message": "Hello Jane, here is the quote.",
        "submission": submission,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("dashboard:new_conversation"), form)
        # A second press of Send (the same rendered form) sends nothing more.
        again = agent_client.post(reverse("dashboard:new_conversation"), form)

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and ticket.public_id in response["Location"]
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert (ticket.channel, ticket.status, ticket.inbox, ticket.assignee) == (
        "email",
        "pending",
        sales,
        agent,
    )
    assert [email.to for email in mail.outbox] == [["jane@example.com"]]


def test_the_first_email_names_the_files_the_agent_attached(
    agent_client,
    sales,
    mail_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path
    quote = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 the quote", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("dashboard:new_conversation"),
            {
                "email": "jane@example.com",
                "inbox": sales.public_id,
                "subject": "Your quote for 20 seats",
                "message": "Hello Jane, the quote is attached.",
                "attachments": [quote],
            },
        )

    assert response.status_code == 302
    first = Ticket.objects.get().messages.get()
    assert [attachment.filename for attachment in first.attachments.all()] == ["quote.pdf"]
    # As with every reply, the mail names the files and the private link serves them.
    (sent,) = mail.outbox
    assert "Attachments: quote.pdf" in sent.body
    assert first.ticket.private_url in sent.body


def test_a_file_that_cannot_be_attached_is_refused_and_nothing_is_sent(
    agent_client,
    sales,
    mail_settings,  # noqa: F811
):
    program = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")
    response = agent_client.post(
        reverse("dashboard:new_conversation"),
        {
            "email": "jane@example.com",
            "inbox": sales.public_id,
            "subject": "Your installer",
            "message": "Here it is.",
            "attachments": [program],
        },
    )

    assert response.status_code == 400
    assert "setup.exe: this type of file cannot be attached" in response.content.decode()
    assert not Ticket.objects.exists() and not mail.outbox


def test_bad_input_is_shown_by_the_field_and_sends_nothing(
    agent_client,
    sales,
    mail_settings,  # noqa: F811
):
    response = agent_client.post(
        reverse("dashboard:new_conversation"),
        {"email": "jane at example", "inbox": sales.public_id, "subject": "Hi", "message": ""},
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"email", "subject", "message"} <= set(errors)
    assert not Ticket.objects.exists() and not mail.outbox


def test_writing_to_our_own_address_is_refused_by_the_field(
    agent_client,
    sales,
    mail_settings,  # noqa: F811
):
    response = agent_client.post(
        reverse("dashboard:new_conversation"),
        {"email": "sales@acme.test", "inbox": sales.public_id, "subject": "Hello", "message": "Hi"},
    )

    assert response.status_code == 400
    assert "one of our own addresses" in response.context["form"].errors["email"][0]
    assert not Ticket.objects.exists()


def test_a_known_customer_is_filled_in_from_their_page(agent_client, organization, inbox):
    customer = factories.make_ticket(inbox, email="max@example.com", name="Max Muster").customer
    page = agent_client.get(reverse("dashboard:customer", args=[customer.public_id]))
    assert f"/desk/tickets/new/email?customer={customer.public_id}" in page.content.decode()

    form = agent_client.get(reverse("dashboard:new_conversation"), {"customer": customer.public_id})
    assert form.context["form"].initial["email"] == "max@example.com"
    assert form.context["form"].initial["name"] == "Max Muster"


def test_another_organizations_customer_is_not_filled_in(agent_client, other_inbox):
    stranger = factories.make_ticket(other_inbox, email="spy@globex.test").customer

    form = agent_client.get(reverse("dashboard:new_conversation"), {"customer": stranger.public_id})

    assert "email" not in form.context["form"].initial
    assert "spy@globex.test" not in form.content.decode()
