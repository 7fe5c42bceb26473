"""The portal: a sign-in link by email, then every ticket of that customer in one list."""

import pytest
from django.core import signing
from django.test import Client

from tickets import notifications
from tickets.portal import session
from tickets.tests import factories


@pytest.fixture
def jane_ticket(inbox):
    return factories.make_ticket(inbox, email="jane@example.com", subject="Jane's first question")


@pytest.fixture
def jane(jane_ticket):
    return jane_ticket.customer


def _ask(client, organization, email, callbacks_fixture):
    """The links mailed for one request: the mailing runs after the response (a task), so
    it is watched where it happens."""
    links = []
    original = notifications.portal_link_requested
    notifications.portal_link_requested = lambda customer_id, link: links.append((customer_id, link))
    try:
        with callbacks_fixture(execute=True):
            response = client.post(f"/t/portal/{organization.slug}/", {"email": email})
    finally:
        notifications.portal_link_requested = original
    return response, links


def _signed_in_client(organization, customer) -> Client:
    client = Client()
    token = session.make_signin_token(customer, nonce="test-nonce")
    response = client.post(f"/t/portal/{organization.slug}/signin/{token}/")
    assert response.status_code == 302
    return client


def test_asking_for_a_link_mails_one_to_a_known_customer(
    client, organization, jane, django_capture_on_commit_callbacks
):
    response, links = _ask(client, organization, "Jane@Example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    [(customer_id, link)] = links
    assert customer_id == jane.pk
    assert link.startswith(f"http://testserver/t/portal/{organization.slug}/signin/")


def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    client, organization, jane, django_capture_on_commit_callbacks
):
    known, _ = _ask(client, organization, "jane@example.com", django_capture_on_commit_callbacks)
    unknown, links = _ask(client, organization, "nobody@example.com", django_capture_on_commit_callbacks)
    assert links == []
    assert unknown.status_code == known.status_code == 200
    assert unknown.content.decode().replace("nobody@example.com", "X") == known.content.decode().replace(
        "jane@example.com", "X"
    )


def test_another_organizations_customer_gets_no_link(
    client, other_organization, jane, django_capture_on_commit_callbacks
):
    _, links = _ask(client, other_organization, "jane@example.com", django_capture_on_commit_callbacks)
    assert links == []


def test_the_link_asks_for_a_click_then_lists_all_the_customers_tickets(
    client, organization, inbox, jane, jane_ticket, other_inbox, django_capture_on_commit_callbacks
):
    second = factories.make_ticket(inbox, email="jane@example.com", subject="Jane's second question")
    someone_else = factories.make_ticket(inbox, email="bob@example.com", subject="Bob's question")
    elsewhere = factories.make_ticket(other_inbox, email="jane@example.com", subject="Jane at Globex")
    _, [(_, link)] = _ask(client, organization, "jane@example.com", django_capture_on_commit_callbacks)
    path = link.removeprefix("http://testserver")

    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Continue as" in confirm.content.decode()
    assert confirm["Referrer-Policy"] == "no-referrer"

    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == f"/t/portal/{organization.slug}/tickets/"
    listing = client.get(response["Location"])
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "Jane&#x27;s first question" in html
    assert "Jane&#x27;s second question" in html
    assert jane_ticket.private_path in html
    assert second.private_path in html
    assert "Bob" not in html and someone_else.private_path not in html
    assert elsewhere.private_path not in html
    assert "no-store" in listing["Cache-Control"]


def test_a_link_works_only_once(client, organization, jane, django_capture_on_commit_callbacks):
    _, [(_, link)] = _ask(client, organization, "jane@example.com", django_capture_on_commit_callbacks)
    path = link.removeprefix("http://testserver")
    assert client.post(path).status_code == 302
    again = Client().post(path)
    assert again.status_code == 400
    assert "expired" in again.content.decode()


def test_a_link_older_than_an_hour_is_refused(client, organization, jane, monkeypatch):
    an_hour_and_a_bit_ago = signing.TimestampSigner().timestamp()
    monkeypatch.setattr(
        signing.TimestampSigner,
        "timestamp",
        lambda self: signing.b62_encode(signing.b62_decode(an_hour_and_a_bit_ago) - 3700),
    )
    token = session.make_signin_token(jane, nonce="old")
    monkeypatch.undo()
    response = client.post(f"/t/portal/{organization.slug}/signin/{token}/")
    assert response.status_code == 400
    assert session.SESSION_CUSTOMER not in client.session


def test_a_tampered_link_is_refused(client, organization, jane):
    token = session.make_signin_token(jane, nonce="n")
    assert client.get(f"/t/portal/{organization.slug}/signin/{token[:-2]}xx/").status_code == 400


def test_a_link_does_not_open_another_organizations_portal(client, other_organization, jane):
    token = session.make_signin_token(jane, nonce="n")
    assert client.post(f"/t/portal/{other_organization.slug}/signin/{token}/").status_code == 400
    assert session.SESSION_CUSTOMER not in client.session


def test_the_list_needs_a_sign_in(client, organization):
    response = client.get(f"/t/portal/{organization.slug}/tickets/")
    assert response.status_code == 302
    assert response["Location"] == f"/t/portal/{organization.slug}/"


def test_a_sign_in_is_scoped_to_its_organization(organization, other_organization, jane):
    client = _signed_in_client(organization, jane)
    assert client.get(f"/t/portal/{organization.slug}/tickets/").status_code == 200
    assert client.get(f"/t/portal/{other_organization.slug}/tickets/").status_code == 302


def test_signing_out_ends_the_portal_session(organization, jane):
    client = _signed_in_client(organization, jane)
    response = client.post(f"/t/portal/{organization.slug}/signout/")
    assert response.status_code == 302
    assert client.get(f"/t/portal/{organization.slug}/tickets/").status_code == 302


def test_the_ticket_page_links_back_to_the_list_when_signed_in(organization, jane, jane_ticket):
    client = _signed_in_client(organization, jane)
    assert "All my requests" in client.get(jane_ticket.private_path).content.decode()
    assert "All my requests" not in Client().get(jane_ticket.private_path).content.decode()


def test_asking_for_links_is_rate_limited_per_address(client, organization, jane, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_EMAIL):
        assert (
            client.post(f"/t/portal/{organization.slug}/", {"email": "jane@example.com"}).status_code == 200
        )
    response = client.post(f"/t/portal/{organization.slug}/", {"email": "jane@example.com"})
    assert response.status_code == 429
    assert "Too many sign-in links were asked for" in response.content.decode()
    assert int(response["Retry-After"]) > 0


def test_the_list_filters_by_state_and_reads_in_a_fixed_number_of_queries(
    organization, inbox, jane, django_assert_max_num_queries
):
    from tickets import services
    from tickets.actors import Actor

    inbox.daily_limit_per_customer = None
    inbox.save(update_fields=["daily_limit_per_customer"])
    for number in range(8):
        factories.make_ticket(inbox, email="jane@example.com", subject=f"Question number {number}")
    done = factories.make_ticket(inbox, email="jane@example.com", subject="Already solved")
    services.change_status(ticket=done, status="closed", actor=Actor.for_customer(jane))
    client = _signed_in_client(organization, jane)
    with django_assert_max_num_queries(8):
        html = client.get(f"/t/portal/{organization.slug}/tickets/").content.decode()
    assert html.count('class="ticket-row"') == 10
    open_only = client.get(f"/t/portal/{organization.slug}/tickets/?status=open").content.decode()
    assert "Already solved" not in open_only
    assert (
        "Already solved" in client.get(f"/t/portal/{organization.slug}/tickets/?status=done").content.decode()
    )
