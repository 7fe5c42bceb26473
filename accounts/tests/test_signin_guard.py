"""Sign-in protection through django-axes: the admin login, password reset and portal
sign-in links are guarded like /accounts/login/, and a locked-out person is told."""

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(email="root@example.test", password=PASSWORD)


def admin_sign_in(client, email, password, address="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/", {"username": email, "password": password}, REMOTE_ADDR=address
    )


def test_the_admin_login_locks_after_five_wrong_passwords_and_then_refuses_the_right_one(client, staff):
    # Before: 12 wrong passwords, then the right one signed in.
    answers = [admin_sign_in(client, staff.email, f"guess {n}").status_code for n in range(12)]
    assert answers[:4] == [200] * 4
    assert set(answers[4:]) == {429}
    response = admin_sign_in(client, staff.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session


def test_the_lock_lifts_when_the_window_has_passed(client, staff, time_machine):
    time_machine.move_to(timezone.now())
    for n in range(5):
        admin_sign_in(client, staff.email, f"guess {n}")
    assert admin_sign_in(client, staff.email, PASSWORD).status_code == 429
    time_machine.shift(15 * 60 + 1)
    assert admin_sign_in(client, staff.email, PASSWORD).status_code == 302


def test_a_locked_out_agent_gets_one_email_saying_so(client, agent):
    for n in range(8):
        client.post(
            "/accounts/login/",
            {"username": "Agent@Acme.test", "password": f"guess {n}"},
            REMOTE_ADDR="198.51.100.4",
        )
    assert len(mail.outbox) == 1
    [email] = mail.outbox
    assert email.to == ["agent@acme.test"]
    assert email.subject == "Sign-in to your Helpdesk account was locked"
    assert "198.51.100.4" in email.body
    assert "15 minutes" in email.body
    assert "http://testserver/accounts/password-reset/" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "198.51.100.4" in html
    assert "Alice Agent" in html


def test_an_address_locked_for_guessing_others_sends_no_email_to_them(client, agent, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        client.post("/accounts/login/", {"username": f"nobody{n}@acme.test", "password": "x"})
    response = client.post("/accounts/login/", {"username": agent.email, "password": "x"})
    assert response.status_code == 429
    assert mail.outbox == []


def test_password_reset_sends_at_most_five_emails_to_one_account(client, agent):
    # Before: 8 requests sent 8 emails to one agent.
    answers = [
        client.post(
            "/accounts/password-reset/", {"email": agent.email}, REMOTE_ADDR=f"192.0.2.{n}"
        ).status_code
        for n in range(8)
    ]
    assert answers == [302] * 5 + [429] * 3
    assert len([email for email in mail.outbox if "password" in email.subject.lower()]) == 5


def test_password_reset_from_one_address_is_limited_across_accounts(client, agent, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    for n in range(4):
        assert client.post("/accounts/password-reset/", {"email": f"x{n}@acme.test"}).status_code == 302
    response = client.post("/accounts/password-reset/", {"email": agent.email})
    assert response.status_code == 429
    assert mail.outbox == []


def test_portal_links_from_one_client_address_are_limited_across_emails(client, organization, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        response = client.post(f"/t/portal/{organization.slug}/", {"email": f"c{n}@example.com"})
        assert response.status_code == 200
    response = client.post(f"/t/portal/{organization.slug}/", {"email": "c9@example.com"})
    assert response.status_code == 429
    assert "Too many sign-in links were asked for" in response.content.decode()


def test_a_portal_customer_never_shares_a_count_with_the_agent_of_the_same_address(
    client, organization, agent
):
    for _ in range(5):
        client.post(f"/t/portal/{organization.slug}/", {"email": agent.email}, REMOTE_ADDR="192.0.2.50")
    response = client.post("/accounts/login/", {"username": agent.email, "password": PASSWORD})
    assert response.status_code == 302
