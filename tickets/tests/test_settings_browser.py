"""Chromium walks the settings, profile and reports pages; screenshots go to test-artifacts/."""

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from tickets.models import Ticket
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


@pytest.fixture
def busy_organization(transactional_db):
    """An organization with a month of tickets spread over days, agents and inboxes."""
    organization = factories.make_organization(name="Acme", slug="acme")
    invoices = factories.make_inbox(organization, name="Invoices", prefix="INV", is_default=True)
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL", daily_limit_per_customer=None)
    owner = factories.make_agent(organization, email="owner@acme.test", name="Olga Owner", role="owner")
    agents = [
        owner,
        factories.make_agent(organization, email="alice@acme.test", name="Alice Agent"),
        factories.make_agent(organization, email="bob@acme.test", name="Bob Builder", tier="n2"),
    ]
    picker = random.Random(7)
    now = timezone.now()
    for number in range(60):
        ticket = factories.make_ticket(picker.choice([invoices, sales]), email=f"c{number}@example.test")
        created = now - timedelta(days=picker.randint(0, 28), hours=picker.randint(0, 12))
        fields = {"created_at": created, "assignee": picker.choice([*agents, None])}
        roll = picker.random()
        if roll < 0.8:
            fields["first_response_at"] = created + timedelta(minutes=picker.randint(5, 600))
        if roll < 0.55:
            fields["resolved_at"] = min(created + timedelta(hours=picker.randint(2, 96)), now)
            fields["status"] = picker.choice(["resolved", "closed"])
        elif roll < 0.8:
            fields["status"] = "in_progress"
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    return organization


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/desk/.*"))


@pytest.mark.browser
def test_reports_page_draws_its_charts(live_server, page, artifacts_dir, busy_organization):
    sign_in(page, live_server, "owner@acme.test")
    page.set_viewport_size({"width": 1360, "height": 1100})
    page.goto(f"{live_server.url}/desk/reports/")
    assert page.locator("svg.chart rect.bar-created").count() == 30
    assert page.locator("[data-stat=created]").inner_text() == "60"
    page.screenshot(path=artifacts_dir / "dashboard-reports.png", full_page=True)
    page.click("text=7 days")
    assert page.locator("svg.chart rect.bar-created").count() == 7
    page.select_option("select[name=inbox]", label="Sales (SAL)")
    page.click("text=Apply")
    assert "Sales" in page.locator("h1 + p").inner_text()


@pytest.mark.browser
def test_an_owner_creates_an_api_key_and_sees_it_once(live_server, page, artifacts_dir, busy_organization):
    sign_in(page, live_server, "owner@acme.test")
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"{live_server.url}/desk/settings/inboxes/")
    page.screenshot(path=artifacts_dir / "dashboard-settings-inboxes.png", full_page=True)
    page.goto(f"{live_server.url}/desk/settings/members/")
    page.screenshot(path=artifacts_dir / "dashboard-settings-agents.png", full_page=True)
    page.goto(f"{live_server.url}/desk/settings/api-keys/")
    page.fill("#id_name", "Billing backend")
    page.select_option("#id_inbox", label="Invoices (INV)")
    page.click("text=Create key")
    secret = page.locator("#new-secret").input_value()
    assert secret.startswith("hdk_")
    page.screenshot(path=artifacts_dir / "dashboard-settings-api-key-created.png", full_page=True)
    page.click("text=I have copied it")
    assert secret not in page.content()
    assert "Billing backend" in page.content()
    page.goto(f"{live_server.url}/desk/settings/security/")
    page.click("summary")
    page.screenshot(path=artifacts_dir / "dashboard-settings-jwt.png", full_page=True)


@pytest.mark.browser
def test_an_agent_is_kept_out_of_settings_and_makes_a_token(
    live_server, page, artifacts_dir, busy_organization
):
    sign_in(page, live_server, "alice@acme.test")
    response = page.goto(f"{live_server.url}/desk/settings/inboxes/")
    assert response.status == 403
    page.goto(f"{live_server.url}/desk/profile/")
    page.fill("#id_name", "Alice A.")
    page.click("text=Save")
    page.fill("form[action$='tokens/'] #id_name", "Laptop")
    page.click("text=Create token")
    assert page.locator("#new-secret").input_value().startswith("hda_")
    page.click("text=I have copied it")
    page.click("text=Set me away")
    assert Membership.objects.get(user__email="alice@acme.test").is_available is False
    page.screenshot(path=artifacts_dir / "dashboard-profile.png", full_page=True)
