"""Two-factor sign-in (django-otp): codes computed from the enrolled secret with pyotp."""

import re
from base64 import b32encode
from datetime import timedelta

import pyotp
import pytest
from django.test import Client, override_settings
from django.urls import clear_url_caches, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def totp_for(user) -> pyotp.TOTP:
    device = TOTPDevice.objects.get(user=user)
    return pyotp.TOTP(b32encode(device.bin_key).decode())


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def enroll(client, next_page="/desk/") -> list[str]:
    """Sets up the app through the pages, as a person would; returns the recovery codes."""
    page = client.get(reverse("two_factor_setup"), {"next": next_page})
    assert page.status_code == 200
    secret = page.context["secret"].replace(" ", "")
    done = client.post(reverse("two_factor_setup"), {"code": pyotp.TOTP(secret).now(), "next": next_page})
    assert done.status_code == 200, done.content.decode()[:500]
    return list(done.context["codes"])


@pytest.fixture
def enrolled(agent, clock):
    """The agent with an authenticator app and recovery codes, signed out again."""
    client = Client()
    sign_in(client, agent.email)
    codes = enroll(client)
    clock.shift(timedelta(seconds=30))  # the next code: a used one is refused
    return codes


def test_an_agent_sets_up_an_app_and_gets_ten_recovery_codes_shown_once(agent_client, agent, clock):
    page = agent_client.get(reverse("two_factor_setup"))
    assert 'data-testid="two-factor-secret"' in page.content.decode()
    assert page.context["config_url"].startswith("otpauth://totp/Helpdesk")
    wrong = agent_client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=agent, confirmed=True).exists()
    clock.shift(timedelta(seconds=5))  # past the throttle of one wrong code
    codes = enroll(agent_client)
    assert len(codes) == len(set(codes)) == 10
    assert TOTPDevice.objects.filter(user=agent, confirmed=True).count() == 1


def test_with_an_app_the_password_alone_does_not_open_the_dashboard(agent, enrolled):
    client = Client()
    response = sign_in(client, agent.email)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
    queue = client.get(reverse("dashboard:queue"))
    assert queue.status_code == 302
    assert queue["Location"].startswith(reverse("two_factor_verify"))
    assert client.get("/admin/").status_code == 302


def test_the_code_from_the_app_completes_the_sign_in(agent, enrolled):
    client = Client()
    sign_in(client, agent.email)
    response = client.post(reverse("two_factor_verify"), {"code": totp_for(agent).now(), "next": "/desk/"})
    assert response.status_code == 302
    assert response["Location"] == "/desk/"
    assert client.get(reverse("dashboard:queue")).status_code == 200


def test_a_wrong_code_and_a_replayed_code_are_refused(agent, enrolled, clock):
    client = Client()
    sign_in(client, agent.email)
    assert client.post(reverse("two_factor_verify"), {"code": "123456"}).status_code == 400
    clock.shift(timedelta(seconds=5))
    code = totp_for(agent).now()
    assert client.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
    # The same code again, in another browser within the same 30 seconds: refused.
    other = Client()
    sign_in(other, agent.email)
    response = other.post(reverse("two_factor_verify"), {"code": code})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert other.get(reverse("dashboard:queue")).status_code == 302


def test_a_recovery_code_works_once(agent, enrolled):
    first = Client()
    sign_in(first, agent.email)
    assert first.post(reverse("two_factor_verify"), {"code": enrolled[0].upper()}).status_code == 302
    assert first.get(reverse("dashboard:queue")).status_code == 200
    second = Client()
    sign_in(second, agent.email)
    assert second.post(reverse("two_factor_verify"), {"code": enrolled[0]}).status_code == 400


def test_replacing_the_app_needs_the_current_one(agent, enrolled):
    client = Client()
    client.force_login(agent)  # a session that never passed the second step
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_an_organization_that_requires_two_factor_sends_members_without_one_to_set_it_up(
    organization, agent, clock
):
    organization.members_must_use_two_factor = True
    organization.save(update_fields=["members_must_use_two_factor"])
    client = Client()
    sign_in(client, agent.email)
    queue = client.get(reverse("dashboard:queue"))
    assert queue.status_code == 302
    assert queue["Location"].startswith(reverse("two_factor_setup"))
    enroll(client)
    assert client.get(reverse("dashboard:queue")).status_code == 200


def test_an_owner_turns_the_requirement_on(organization, owner):
    client = Client()
    client.force_login(owner)
    client.post(reverse("dashboard:settings-member-policy"), {"members_must_use_two_factor": "on"})
    organization.refresh_from_db()
    assert organization.members_must_use_two_factor is True
    assert client.get(reverse("dashboard:queue"))["Location"].startswith(reverse("two_factor_setup"))


def test_api_keys_and_personal_tokens_are_unaffected(organization, agent, api, inbox, enrolled):
    organization.members_must_use_two_factor = True
    organization.save(update_fields=["members_must_use_two_factor"])
    assert api.get("/api/v1/tickets").status_code == 200
    _, token = factories.make_agent_token(agent)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/tickets").status_code == 200


@pytest.fixture
def otp_admin():
    """The admin site as ADMIN_REQUIRES_TWO_FACTOR makes it (django-otp's OTPAdminSite)."""
    import importlib

    from django.contrib import admin

    import helpdesk.urls

    stock = admin.site.__class__
    with override_settings(ADMIN_REQUIRES_TWO_FACTOR=True):
        importlib.reload(helpdesk.urls)
        clear_url_caches()
        yield
    admin.site.__class__ = stock
    importlib.reload(helpdesk.urls)
    clear_url_caches()


def test_with_the_operator_setting_staff_need_a_code_for_admin(db, otp_admin, clock):
    from accounts.models import User

    staff = User.objects.create_superuser(email="root@example.test", password=PASSWORD)
    client = Client()
    # The password alone does not open admin.
    client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302
    # With an app set up, admin's own sign-in asks for its code, and the code opens admin.
    sign_in(client, staff.email)
    enroll(client, next_page="/admin/")
    client.logout()
    clock.shift(timedelta(seconds=30))
    device = TOTPDevice.objects.get(user=staff)
    page = client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD})
    assert re.search(r'name="otp_token"', page.content.decode())
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": staff.email,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": totp_for(staff).now(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:800]
    assert client.get("/admin/").status_code == 200
    assert two_factor.STATE_KEY in client.session
