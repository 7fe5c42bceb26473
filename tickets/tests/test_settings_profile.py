"""The agent's own profile page: name, availability, personal API tokens."""

import re

import pytest
from django.urls import reverse

from accounts.models import AgentToken, AuditEvent, Membership
from tickets.tests import factories


@pytest.fixture
def token(agent):
    return factories.make_agent_token(agent, name="Laptop")[0]


def test_the_profile_shows_name_availability_and_tokens(client, agent, token):
    client.force_login(agent)
    page = client.get(reverse("dashboard:profile")).content.decode()
    assert "Alice Agent" in page and "agent@acme.test" in page
    assert "available" in page
    assert f"{token.display_prefix}…" in page and "Laptop" in page


def test_a_new_token_is_shown_once_and_works_with_the_agent_api(client, agent, inbox):
    client.force_login(agent)
    response = client.post(reverse("dashboard:profile-token-create"), {"name": "CLI"})
    token = AgentToken.objects.get(user=agent, name="CLI")
    assert response["Location"] == reverse("dashboard:profile-token-created", args=[token.pk])
    page = client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    plaintext = re.search(r'value="(hda_[^"]+)"', page.content.decode()).group(1)
    assert AgentToken.find(plaintext) == token
    assert client.get(response["Location"]).status_code == 302
    assert plaintext not in client.get(reverse("dashboard:profile")).content.decode()
    api = client.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.status_code == 200


def test_a_token_needs_a_name(client, agent):
    client.force_login(agent)
    response = client.post(reverse("dashboard:profile-token-create"), {"name": ""})
    assert response.status_code == 400
    assert not AgentToken.objects.exists()


def test_revoking_a_token_from_the_profile(client, agent, token):
    client.force_login(agent)
    client.post(reverse("dashboard:profile-token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.get().action == AuditEvent.Action.AGENT_TOKEN_REVOKED


def test_someone_elses_token_is_404(client, owner, token):
    client.force_login(owner)
    assert client.post(reverse("dashboard:profile-token-revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("dashboard:profile-token-created", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_agent_sets_their_name_and_availability(client, agent, organization):
    client.force_login(agent)
    client.post(reverse("dashboard:profile"), {"name": "Alice A."})
    agent.refresh_from_db()
    assert agent.name == "Alice A."
    client.post(reverse("dashboard:profile-availability"), {})
    assert Membership.objects.get(user=agent, organization=organization).is_available is False
    response = client.post(
        reverse("dashboard:profile-availability"), {"is_available": "on", "next": "/desk/"}
    )
    assert response["Location"] == "/desk/"
    assert Membership.objects.get(user=agent, organization=organization).is_available is True


def test_availability_never_redirects_off_site(client, agent):
    client.force_login(agent)
    response = client.post(reverse("dashboard:profile-availability"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard:profile")


@pytest.mark.parametrize(
    "method, name, args",
    [
        ("get", "dashboard:profile", []),
        ("post", "dashboard:profile", []),
        ("post", "dashboard:profile-availability", []),
        ("post", "dashboard:profile-token-create", []),
        ("get", "dashboard:profile-token-created", [1]),
        ("post", "dashboard:profile-token-revoke", [1]),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, method, name, args):
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "method, name, args",
    [
        ("delete", "dashboard:profile", []),
        ("get", "dashboard:profile-availability", []),
        ("get", "dashboard:profile-token-create", []),
        ("post", "dashboard:profile-token-created", [1]),
        ("get", "dashboard:profile-token-revoke", [1]),
    ],
)
def test_a_wrong_method_is_405(client, agent, method, name, args):
    client.force_login(agent)
    assert getattr(client, method)(reverse(name, args=args)).status_code == 405


def test_the_profile_runs_a_fixed_number_of_queries(client, agent, django_assert_max_num_queries):
    client.force_login(agent)
    factories.make_agent_token(agent)
    with django_assert_max_num_queries(8):
        client.get(reverse("dashboard:profile"))
    for number in range(10):
        factories.make_agent_token(agent, name=f"Token {number}")
    with django_assert_max_num_queries(8):
        client.get(reverse("dashboard:profile"))
