"""The agent dashboard: pages, actions and who may use them."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from accounts.models import Membership, User
from tickets.models import Ticket, TicketEvent
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


@pytest.fixture
def other_ticket(other_inbox):
    return factories.make_ticket(other_inbox, subject="Globex secret", email="boss@globex.test")


def queue_url(**params):
    from urllib.parse import urlencode

    return reverse("dashboard:queue") + ("?" + urlencode(params, doseq=True) if params else "")


def ticket_url(ticket, name="dashboard:ticket"):
    return reverse(name, args=[ticket.public_id])


def references(response) -> list[str]:
    return [ticket.reference for ticket in response.context["tickets"]]


# Permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("dashboard:queue", []),
        ("dashboard:queue_rows", []),
        ("dashboard:notifications", []),
        ("dashboard:bell", []),
        ("dashboard:ticket", ["01JTESTTICKET0000000000000"]),
    ],
)
def test_anonymous_visitor_is_sent_to_sign_in(client, db, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_signed_in_user_of_no_organization_is_told_so(client, db):
    user = User.objects.create_user(email="lonely@example.test", password=PASSWORD)
    client.force_login(user)
    response = client.get(reverse("dashboard:queue"))
    assert response.status_code == 403
    assert b"No organization yet" in response.content


def test_queue_never_lists_another_organizations_tickets(agent_client, ticket, other_ticket):
    response = agent_client.get(queue_url(view="all"))
    assert response.status_code == 200
    assert references(response) == [ticket.reference]
    assert b"Globex secret" not in response.content


@pytest.mark.parametrize(
    "name,data",
    [
        ("dashboard:add_message", {"kind": "reply", "body": "Hello"}),
        ("dashboard:update_ticket", {"status": "closed"}),
        ("dashboard:take_ticket", {}),
        ("dashboard:rotate_link", {}),
    ],
)
def test_actions_on_another_organizations_ticket_are_not_found(agent_client, other_ticket, name, data):
    events_before = TicketEvent.objects.filter(ticket=other_ticket).count()
    response = agent_client.post(ticket_url(other_ticket, name), data)
    assert response.status_code == 404
    assert TicketEvent.objects.filter(ticket=other_ticket).count() == events_before


def test_another_organizations_ticket_page_is_not_found(agent_client, other_ticket):
    assert agent_client.get(ticket_url(other_ticket)).status_code == 404


def test_bulk_action_skips_tickets_of_another_organization(agent_client, ticket, other_ticket):
    response = agent_client.post(
        reverse("dashboard:bulk"),
        {"action": "close", "ticket": [ticket.public_id, other_ticket.public_id]},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    other_ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert other_ticket.status == Ticket.Status.OPEN


@pytest.mark.parametrize(
    "name,args",
    [
        ("dashboard:bulk", []),
        ("dashboard:availability", []),
        ("dashboard:switch_organization", []),
        ("dashboard:mark_read", []),
        ("dashboard:preview", []),
    ],
)
def test_actions_refuse_get(agent_client, name, args):
    assert agent_client.get(reverse(name, args=args)).status_code == 405


def test_ticket_actions_refuse_get(agent_client, ticket):
    for name in ("dashboard:add_message", "dashboard:update_ticket", "dashboard:rotate_link"):
        assert agent_client.get(ticket_url(ticket, name)).status_code == 405


# Sign-in, sign-out, password reset --------------------------------------------------------


def test_agent_signs_in_with_email_and_lands_on_the_queue(client, agent):
    response = client.post(reverse("login"), {"username": "agent@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:queue")


def test_wrong_password_shows_an_error(client, agent):
    response = client.post(reverse("login"), {"username": "agent@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert b"form-error" in response.content


def test_sign_out_is_a_post_that_ends_the_session(agent_client):
    response = agent_client.post(reverse("logout"))
    assert response.status_code == 302
    assert agent_client.get(reverse("dashboard:queue")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client, agent):
    response = client.get(reverse("password_reset"))
    assert response.status_code == 200
    response = client.post(reverse("password_reset"), {"email": "agent@acme.test"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert client.get(response["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["agent@acme.test"]
    assert email.subject == "Reset your Helpdesk password"
    link = next(line for line in email.body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert b"Choose a new password" in response.content
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    agent.refresh_from_db()
    assert agent.check_password("a new long passphrase 42")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_expired_reset_link_says_so(client, agent):
    response = client.get(reverse("password_reset_confirm", args=["MQ", "bad-token"]))
    assert response.status_code == 200
    assert b"This link has expired" in response.content


# Organization switcher -------------------------------------------------------------------


def test_agent_of_two_organizations_switches_between_them(
    agent_client, agent, ticket, other_organization, other_ticket
):
    Membership.objects.create(user=agent, organization=other_organization)
    response = agent_client.get(queue_url(view="all"))
    assert b"org-switcher" in response.content
    assert references(response) == [ticket.reference]

    response = agent_client.post(
        reverse("dashboard:switch_organization"), {"organization": other_organization.public_id}
    )
    assert response.status_code == 302
    assert agent_client.session[SESSION_KEY] == other_organization.pk
    response = agent_client.get(queue_url(view="all"))
    assert references(response) == [other_ticket.reference]
    assert agent_client.get(ticket_url(other_ticket)).status_code == 200
    assert agent_client.get(ticket_url(ticket)).status_code == 404


def test_switching_to_an_organization_one_is_not_in_is_not_found(agent_client, other_organization):
    response = agent_client.post(
        reverse("dashboard:switch_organization"), {"organization": other_organization.public_id}
    )
    assert response.status_code == 404
    assert SESSION_KEY not in agent_client.session


def test_a_poll_after_the_session_ended_sends_the_page_to_sign_in(client, db):
    response = client.get(
        reverse("dashboard:queue_rows") + "?view=mine",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/desk/?view=mine"},
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fdesk%2F%3Fview%3Dmine"
    assert response.content == b""


def test_a_poll_by_someone_without_organization_swaps_nothing(client, db):
    client.force_login(User.objects.create_user(email="lonely@example.test", password=PASSWORD))
    response = client.get(reverse("dashboard:bell"), headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.content == b""
