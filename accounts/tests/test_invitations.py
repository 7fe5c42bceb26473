"""Consent: someone with an account joins another organization only by accepting, signed in.

Before: an owner of organization B added an existing user of organization A at once; the
answer revealed that the address had an account, and the user's agent token started
failing on A ("you belong to several").
"""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Invitation, Membership
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


@pytest.fixture
def globex_owner(other_organization):
    return factories.make_agent(other_organization, email="boss@globex.test", name="Gus Globex", role="owner")


def invite_from_the_settings_page(owner, email, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboard:settings-members"), {"email": email, "name": "", "role": "agent", "tier": "n1"}
        )
    return client, response


def test_inviting_an_existing_user_makes_no_membership_and_their_token_keeps_working(
    agent, globex_owner, other_organization, inbox, django_capture_on_commit_callbacks
):
    _, token = factories.make_agent_token(agent)
    _, response = invite_from_the_settings_page(globex_owner, agent.email, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert not Membership.objects.filter(user=agent, organization=other_organization).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post("/api/v1/tags", {"name": "still-mine"}, format="json")
    assert created.status_code == 201  # still one organization: no "you belong to several"
    [email] = mail.outbox
    assert email.to == [agent.email]
    assert email.subject == "Gus Globex invites you to join Globex on Helpdesk"
    invitation = Invitation.objects.get()
    assert f"http://testserver/accounts/invitations/{invitation.public_id}/" in email.body
    assert "Nothing changes until you accept." in email.body
    assert "Sign in and accept</a>" in email.alternatives[0][0]


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    agent, globex_owner, django_capture_on_commit_callbacks
):
    client, existing = invite_from_the_settings_page(
        globex_owner, agent.email, django_capture_on_commit_callbacks
    )
    _, new = invite_from_the_settings_page(
        globex_owner, "newcomer@example.com", django_capture_on_commit_callbacks
    )

    assert existing.status_code == new.status_code == 302
    assert existing["Location"] == new["Location"]
    messages = [str(message) for message in existing.wsgi_request._messages] + [
        str(message) for message in new.wsgi_request._messages
    ]
    assert messages == [f"Invitation sent to {agent.email}.", "Invitation sent to newcomer@example.com."]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_INVITED).order_by("pk")
    assert [event.changes for event in events] == [{"role": "agent", "tier": "n1"}] * 2


def test_the_invited_person_accepts_signed_in_and_then_is_a_member(
    agent, globex_owner, other_organization, django_capture_on_commit_callbacks
):
    invite_from_the_settings_page(globex_owner, agent.email, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    url = reverse("invitation", args=[invitation.public_id])

    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    client = Client()
    client.post("/accounts/login/", {"username": agent.email, "password": PASSWORD})
    page = client.get(url)
    assert "Join Globex?" in page.content.decode()
    assert not Membership.objects.filter(user=agent, organization=other_organization).exists()
    accepted = client.post(url)
    assert accepted.status_code == 302
    membership = Membership.objects.get(user=agent, organization=other_organization)
    assert (membership.role, membership.tier) == ("agent", "n1")
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.INVITATION_ACCEPTED, organization=other_organization, target=agent.email
    ).exists()
    # The dashboard now works in the organization just joined.
    assert client.get(reverse("dashboard:queue")).context["request"].organization == other_organization


def test_someone_else_signed_in_cannot_accept(
    agent, owner, globex_owner, other_organization, django_capture_on_commit_callbacks
):
    invite_from_the_settings_page(globex_owner, agent.email, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("invitation", args=[invitation.public_id]))
    assert response.status_code == 403
    assert "This invitation is for someone else" in response.content.decode()
    assert not Membership.objects.filter(organization=other_organization, user__in=[agent, owner]).exists()


def test_the_members_page_lists_both_kinds_of_invitation_the_same_way(
    agent, globex_owner, other_organization, django_capture_on_commit_callbacks
):
    client, _ = invite_from_the_settings_page(globex_owner, agent.email, django_capture_on_commit_callbacks)
    invite_from_the_settings_page(globex_owner, "newcomer@example.com", django_capture_on_commit_callbacks)
    page = client.get(reverse("dashboard:settings-members"))
    waiting = page.context["waiting"]
    assert sorted(row["email"] for row in waiting) == sorted([agent.email, "newcomer@example.com"])
    assert {tuple(sorted(row)) for row in waiting} == {
        ("email", "resend_url", "role", "sent", "withdraw_url")
    }
    html = page.content.decode()
    assert 'data-testid="open-invitations"' in html
    assert "invitation pending" not in html  # the new address is not singled out among members


def test_both_kinds_are_resent_and_withdrawn_with_the_same_words(
    agent, globex_owner, other_organization, django_capture_on_commit_callbacks
):
    client, _ = invite_from_the_settings_page(globex_owner, agent.email, django_capture_on_commit_callbacks)
    invite_from_the_settings_page(globex_owner, "newcomer@example.com", django_capture_on_commit_callbacks)
    mail.outbox.clear()
    rows = {row["email"]: row for row in client.get(reverse("dashboard:settings-members")).context["waiting"]}
    said = []
    for email in (agent.email, "newcomer@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            resent = client.post(rows[email]["resend_url"], follow=True)
        said.append([str(message) for message in resent.context["messages"]])
    assert said == [
        [f"Invitation sent again to {agent.email}."],
        ["Invitation sent again to newcomer@example.com."],
    ]
    assert sorted(message.to[0] for message in mail.outbox) == sorted([agent.email, "newcomer@example.com"])
    said = []
    for email in (agent.email, "newcomer@example.com"):
        withdrawn = client.post(rows[email]["withdraw_url"], follow=True)
        said.append([str(message) for message in withdrawn.context["messages"]])
    assert said == [
        [f"Invitation to {agent.email} withdrawn."],
        ["Invitation to newcomer@example.com withdrawn."],
    ]
    assert not Invitation.objects.exists()
    assert not Membership.objects.filter(
        organization=other_organization, user__email="newcomer@example.com"
    ).exists()
    assert client.get(reverse("dashboard:settings-members")).context["waiting"] == []
