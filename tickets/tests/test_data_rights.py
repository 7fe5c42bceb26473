"""Customers' data rights: export everything about a customer, erase it, and who may."""

import io
import json
import zipfile

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuditEvent, CustomerToken
from tickets import services
from tickets.actors import Actor
from tickets.models import Attachment, Customer, Delivery, Message, Participant, Ticket, TicketEvent
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error

JANE = {"email": "jane.roe@example.com", "name": "Jane Roe", "external_id": "user_4242"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _bearer(user) -> APIClient:
    _, token = factories.make_agent_token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _file(name: str, content: bytes) -> services.UploadedFile:
    return services.UploadedFile(filename=name, content_type="application/octet-stream", content=content)


@pytest.fixture
def jane(organization, inbox, agent):
    """A customer with two tickets, a reply with a file, an agent's answer quoting her, a
    note, a token, and a Cc on someone else's ticket where she wrote too."""
    customer, _ = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(**JANE, metadata={"plan": "gold", "phone": "+33 6 12 34 56 78"}),
    )
    first, _ = services.create_ticket(
        inbox=inbox,
        customer=customer,
        subject="Refund for order zanzibar",
        message="My card ending 4242 was charged twice, flamingo.",
        actor=Actor.for_customer(customer),
        metadata={"order": "A-77"},
        attachments=[_file("passport-jane.pdf", b"%PDF-1.4 jane's passport")],
    )
    services.add_message(
        ticket=first,
        body="Here is the receipt, pelican.",
        actor=Actor.for_customer(customer),
        attachments=[_file("receipt.png", b"\x89PNG jane's receipt")],
    )
    services.add_message(ticket=first, body="> charged twice, flamingo\nRefunded.", actor=Actor.agent(agent))
    services.add_message(
        ticket=first, body="Jane Roe is a VIP.", actor=Actor.agent(agent), kind=Message.Kind.NOTE
    )
    second = factories.make_ticket(inbox, email=JANE["email"], subject="Second question", message="Walrus?")
    token = CustomerToken(organization=organization, customer=customer)
    token.assign_secret()
    token.save()
    # Someone else's ticket, where Jane is copied and answered.
    other = factories.make_ticket(inbox, email="bob@example.com", subject="Bob's ticket", message="Bob here.")
    services.add_participant(ticket=other, email=JANE["email"], actor=Actor.agent(agent))
    services.add_message(ticket=other, body="Jane chiming in: narwhal.", actor=Actor.for_customer(customer))
    return {"customer": customer, "tickets": [first, second], "other": other}


# Export ----------------------------------------------------------------------------------


def _unzip(response) -> tuple[dict, dict[str, bytes]]:
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("customer.json")), files


def test_export_has_every_ticket_message_and_file_of_the_customer_and_nothing_else(
    api, jane, inbox, other_inbox
):
    factories.make_ticket(inbox, email="carol@example.com", subject="Carol's own", message="Private carol.")
    factories.make_ticket(
        other_inbox, email=JANE["email"], subject="Same address elsewhere", message="Globex"
    )

    response = api.get(
        f"/api/v1/customers/{jane['customer'].public_id}/export", HTTP_ACCEPT="application/zip"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert f"customer-{jane['customer'].public_id}.zip" in response["Content-Disposition"]
    document, files = _unzip(response)
    assert document["customer"]["email"] == JANE["email"]
    assert document["customer"]["metadata"]["phone"] == "+33 6 12 34 56 78"
    assert [ticket["reference"] for ticket in document["tickets"]] == [t.reference for t in jane["tickets"]]
    first = document["tickets"][0]
    assert first["metadata"] == {"order": "A-77"}
    bodies = [message["body"] for message in first["messages"]]
    assert bodies == [
        "My card ending 4242 was charged twice, flamingo.",
        "Here is the receipt, pelican.",
        "> charged twice, flamingo\nRefunded.",
        "Jane Roe is a VIP.",
    ]
    assert any(event["action"] == "created" for event in first["events"])
    paths = [a["path"] for message in first["messages"] for a in message["attachments"]]
    assert len(paths) == 2
    assert set(files) == set(paths)
    assert files[paths[0]] == b"%PDF-1.4 jane's passport"
    assert files[paths[1]] == b"\x89PNG jane's receipt"
    assert [m["body"] for m in document["messages_on_other_tickets"]] == ["Jane chiming in: narwhal."]
    assert [p["ticket"] for p in document["participations"]] == [jane["other"].reference]
    assert len(document["customer_tokens"]) == 1
    assert "hashed" not in json.dumps(document["customer_tokens"])
    text = json.dumps(document)
    assert "Private carol" not in text and "Globex" not in text and "Bob here" not in text
    assert {d["recipient"] for d in document["mail_sent_to_them"]} <= {JANE["email"]}

    audit = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_EXPORTED)
    assert audit.organization_id == jane["customer"].organization_id
    assert audit.target == f"customer {jane['customer'].public_id}"
    assert audit.actor_label.startswith("API key")


def test_an_owner_exports_with_a_personal_token_and_an_agent_is_refused(organization, jane, agent, owner):
    path = f"/api/v1/customers/{jane['customer'].public_id}/export"
    assert_error(_bearer(agent).get(path), 403)
    assert _bearer(owner).get(path).status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CUSTOMER_EXPORTED).count() == 1


def test_another_organization_gets_404_for_the_customer(jane, other_api_key, client_for_key, other_agent):
    other_owner = factories.make_agent(other_agent.memberships.first().organization, role="owner")
    for client in (client_for_key(other_api_key), _bearer(other_owner)):
        assert_error(client.get(f"/api/v1/customers/{jane['customer'].public_id}/export"), 404)
        assert_error(client.post(f"/api/v1/customers/{jane['customer'].public_id}/erase"), 404)
    assert Customer.objects.get(pk=jane["customer"].pk).email == JANE["email"]
    assert not AuditEvent.objects.filter(action__startswith="customer_e").exists()


def test_a_key_restricted_to_one_inbox_may_not_export_or_erase(organization, inbox, jane, client_for_key):
    _, key = factories.make_api_key(organization, name="Widget", inbox=inbox)
    client = client_for_key(key)
    assert_error(client.get(f"/api/v1/customers/{jane['customer'].public_id}/export"), 403)
    assert_error(client.post(f"/api/v1/customers/{jane['customer'].public_id}/erase"), 403)


def test_export_errors_stay_json_for_a_client_that_asks_for_a_zip(api):
    response = api.get("/api/v1/customers/01ZZZZZZZZZZZZZZZZZZZZZZZZ/export", HTTP_ACCEPT="application/zip")
    assert_error(response, 404)


# Erase -----------------------------------------------------------------------------------

PERSONAL_WORDS = ["jane", "roe", "user_4242", "zanzibar", "flamingo", "pelican", "walrus", "narwhal", "4242"]


def _erase(api, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return api.post(f"/api/v1/customers/{customer.public_id}/erase")


def test_erase_leaves_no_personal_data_and_keeps_the_tickets_countable(
    api, jane, organization, django_capture_on_commit_callbacks
):
    customer = jane["customer"]
    stored = list(Attachment.objects.filter(message__ticket__customer=customer))
    storage = stored[0].file.storage
    names = [attachment.file.name for attachment in stored]
    assert all(storage.exists(name) for name in names)
    tickets_before = Ticket.objects.filter(organization=organization).count()

    response = _erase(api, customer, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "" and body["name"] == "" and body["metadata"] == {}
    assert body["external_id"] == f"erased:{customer.public_id}"
    assert body["erased_at"]
    customer.refresh_from_db()
    assert customer.erased_at is not None
    # Tickets stay for counts and reports.
    assert Ticket.objects.filter(organization=organization).count() == tickets_before
    assert Ticket.objects.filter(customer=customer).count() == 2
    # Files are gone from storage, and their rows.
    assert not any(storage.exists(name) for name in names)
    assert not Attachment.objects.filter(message__ticket__customer=customer).exists()
    # No column anywhere names her or says what she wrote.
    rows = [
        *Customer.objects.filter(organization=organization).values(),
        *Ticket.objects.filter(organization=organization).values(
            "subject", "metadata", "reply_address", "access_key"
        ),
        *Message.objects.filter(ticket__organization=organization).values(
            "body", "body_html", "raw_email", "email_message_id"
        ),
        *TicketEvent.objects.filter(ticket__organization=organization).values(
            "actor_label", "before", "after"
        ),
        *Delivery.objects.values("recipient", "subject", "body_text", "body_html", "headers", "reply_to"),
        *AuditEvent.objects.values("target", "changes"),
    ]
    dump = json.dumps(rows, default=str).lower()
    for word in PERSONAL_WORDS:
        assert word not in dump, word
    assert "bob here" in dump  # another customer's own words on his own ticket stay
    assert not Participant.objects.filter(customer=customer).exists()

    audit = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_ERASED)
    assert audit.target == f"customer {customer.public_id}"
    assert audit.changes["tickets"] == 2
    assert audit.actor_label.startswith("API key")


def test_erase_ends_the_private_links_tokens_and_portal_sign_in(
    api, jane, client, django_capture_on_commit_callbacks
):
    customer = jane["customer"]
    ticket = jane["tickets"][0]
    old_link = ticket.private_path
    token = CustomerToken(organization=customer.organization, customer=customer)
    plaintext = token.assign_secret()
    token.save()
    customer_api = APIClient()
    customer_api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert customer_api.get("/api/v1/me/tickets").status_code == 200
    session = client.session
    session["portal_customer_id"] = customer.pk
    session["portal_organization_id"] = customer.organization_id
    session.save()
    assert client.get(f"/t/portal/{customer.organization.slug}/tickets/").status_code == 200

    _erase(api, customer, django_capture_on_commit_callbacks)

    assert client.get(old_link).status_code == 404
    assert customer_api.get("/api/v1/me/tickets").status_code == 401
    assert not CustomerToken.objects.filter(customer=customer, revoked_at__isnull=True).exists()
    signed_in = client.get(f"/t/portal/{customer.organization.slug}/tickets/")
    assert signed_in.status_code == 302


def test_erasing_twice_is_fine(api, jane, django_capture_on_commit_callbacks):
    first = _erase(api, jane["customer"], django_capture_on_commit_callbacks)
    second = _erase(api, jane["customer"], django_capture_on_commit_callbacks)
    assert first.status_code == second.status_code == 200
    assert first.json()["erased_at"] == second.json()["erased_at"]
    audits = AuditEvent.objects.filter(action=AuditEvent.Action.CUSTOMER_ERASED).order_by("id")
    assert [audit.changes["already_erased"] for audit in audits] == [False, True]


def test_an_agent_may_not_erase_and_nothing_changes(jane, agent):
    response = _bearer(agent).post(f"/api/v1/customers/{jane['customer'].public_id}/erase")
    assert_error(response, 403)
    customer = Customer.objects.get(pk=jane["customer"].pk)
    assert customer.email == JANE["email"] and customer.erased_at is None
    assert Message.objects.filter(body__contains="flamingo").count() == 2


def test_the_erased_customer_is_no_longer_found_by_the_ticket_search(
    api, jane, django_capture_on_commit_callbacks
):
    def found(query: str) -> int:
        return api.get("/api/v1/tickets", {"q": query}).json()["pagination"]["total"]

    assert found(JANE["email"]) == 2
    assert found("flamingo") == 1
    _erase(api, jane["customer"], django_capture_on_commit_callbacks)
    for query in [
        JANE["email"],
        "Jane",
        "Roe",
        "zanzibar",
        "flamingo",
        "pelican",
        "walrus",
        "narwhal",
        "VIP",
    ]:
        assert found(query) == 0, query
    # Another customer's ticket is still found by its own words.
    assert found("Bob") == 1


@pytest.mark.postgres
def test_the_search_document_holds_no_word_of_the_erased_customer(
    api, jane, django_capture_on_commit_callbacks
):
    _erase(api, jane["customer"], django_capture_on_commit_callbacks)
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_document::text FROM tickets_ticket")
        documents = " ".join(row[0] or "" for row in cursor.fetchall())
    for word in ["jane", "roe", "zanzibar", "flamingo", "pelican", "walrus", "narwhal", "vip"]:
        assert f"'{word}'" not in documents, word
    assert "'bob'" in documents


def test_erase_also_empties_tickets_filed_under_their_address_by_an_unverified_sender(
    api, jane, organization, inbox, django_capture_on_commit_callbacks
):
    provisional = services.customer_for_unproven_sender(
        organization=organization, email=JANE["email"], name="Jane R", actor=Actor.system("Tests")
    )
    typed, _ = services.create_ticket(
        inbox=inbox,
        customer=provisional,
        subject="Typed from the form",
        message="Quetzal words",
        actor=Actor.for_customer(provisional),
        reply_address=JANE["email"],
        sender_unverified=True,
    )

    _erase(api, jane["customer"], django_capture_on_commit_callbacks)

    typed.refresh_from_db()
    assert typed.subject == "[erased]" and typed.reply_address == ""
    assert not Message.objects.filter(body__contains="Quetzal").exists()
    assert str(Customer.objects.get(pk=jane["customer"].pk)) == "Erased customer"


def test_a_mail_to_an_erased_tickets_reply_address_opens_a_new_ticket(
    api, client, organization, inbox, django_capture_on_commit_callbacks, settings
):
    from tickets.mail import addresses
    from tickets.tests.test_mail_inbound import INBOUND_DOMAIN, WEBHOOK_AUTH, make_email, post_sendgrid

    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.INBOUND_EMAIL_DOMAIN = INBOUND_DOMAIN
    settings.ANYMAIL = {"WEBHOOK_SECRET": [WEBHOOK_AUTH]}
    settings.INBOUND_EMAIL_DEFAULT_INBOX = inbox.public_id
    ticket = factories.make_ticket(inbox, email="jane.roe@example.com", subject="Old thread")
    reply_to = addresses.reply_address(ticket)
    _erase(api, ticket.customer, django_capture_on_commit_callbacks)

    email = make_email(
        sender="Jane Roe <jane.roe@example.com>", to=reply_to, subject="Re: Old thread", text="Still there?"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, email).status_code == 200

    assert not Message.objects.filter(ticket=ticket, body__contains="Still there").exists()
    fresh = Message.objects.get(body__contains="Still there").ticket
    assert fresh.pk != ticket.pk
    assert fresh.customer_id != ticket.customer_id


def test_an_erased_customer_cannot_be_given_details_or_a_way_in_again(
    api, jane, django_capture_on_commit_callbacks
):
    customer = jane["customer"]
    _erase(api, customer, django_capture_on_commit_callbacks)
    customer.refresh_from_db()
    erased = Customer.objects.values().get(pk=customer.pk)
    tokens = CustomerToken.objects.count()
    path = f"/api/v1/customers/{customer.public_id}"

    # Each filled the erased record again, or let someone act as them.
    assert_error(api.patch(path, {"name": "Jane Roe", "email": JANE["email"]}, format="json"), 409)
    assert_error(api.post(f"{path}/tokens", {}, format="json"), 409)
    assert_error(
        api.post(
            "/api/v1/customers", {"external_id": customer.external_id, "email": JANE["email"]}, format="json"
        ),
        400,
        field="external_id",
    )
    supportdesk = api.post(
        "/compat/supportdesk/api/v1/tickets/api-create",
        {"customerExternalId": customer.external_id, "subject": "Back again", "description": "Hello"},
        format="json",
    )
    assert supportdesk.status_code == 404
    assert supportdesk.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"

    assert Customer.objects.values().get(pk=customer.pk) == erased
    assert CustomerToken.objects.count() == tokens
    assert not Ticket.objects.filter(customer=customer, subject="Back again").exists()


@pytest.mark.parametrize("external_id", ["erased:01JC3V5Q8W1S7Y2K4M6N8P0R2T", "unverified-sender:0a1b2c3d"])
def test_an_external_id_in_helpdesk_own_forms_is_refused(api, external_id):
    response = api.post("/api/v1/customers", {"external_id": external_id}, format="json")
    assert_error(response, 400, field="external_id")
    assert not Customer.objects.exists()
