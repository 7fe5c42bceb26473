"""The SLA badges and filters in a real browser (Chromium through Playwright), with
screenshots at desktop and phone widths."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from sla import services
from sla.escalation import escalate_due
from tickets.actors import Actor
from tickets.tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def desk(transactional_db):
    cache.clear()
    organization = factories.make_organization(name="Acme", slug="acme")
    inbox = factories.make_inbox(organization, name="Invoices", prefix="INV", is_default=True)
    owner = factories.make_agent(organization, email="alice@acme.test", name="Alice Agent", role="owner")
    actor = Actor.agent(owner)
    services.create_policy(
        organization=organization,
        actor=actor,
        name="Urgent",
        position=0,
        conditions={"priority": ["urgent"]},
        targets={"first_reply_minutes": 30},
        escalation={"warning_percent": 50},
    )
    services.create_policy(
        organization=organization,
        actor=actor,
        name="Everyone",
        position=1,
        targets={"first_reply_minutes": 240},
    )
    cache.clear()
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=90), tick=False):
        factories.make_ticket(inbox, subject="Refund is overdue", priority="urgent")
    with time_machine.travel(now - timedelta(minutes=20), tick=False):
        factories.make_ticket(inbox, subject="Card declined, warned", priority="urgent")
    factories.make_ticket(inbox, subject="Plenty of time")
    escalate_due()
    return organization


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/desk/")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))


def open_filters(page):
    panel = page.locator("details.filter-panel")
    if not panel.evaluate("element => element.open"):
        page.locator("summary", has_text="Filters").click()


def test_badges_stand_out_and_the_filters_narrow_the_queue(page, live_server, desk, artifacts_dir):
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/?view=all&sort=due")
    badges = page.get_by_test_id("sla-badge")
    expect(badges).to_have_count(3)
    expect(badges.nth(0)).to_have_attribute("data-sla-state", "breached")
    expect(badges.nth(0)).to_contain_text("overdue")
    expect(badges.nth(1)).to_have_attribute("data-sla-state", "warning")
    expect(badges.nth(2)).to_have_attribute("data-sla-state", "ok")
    background = badges.nth(0).evaluate("element => getComputedStyle(element).backgroundColor")
    assert background == "rgb(201, 42, 42)"  # red: breached stands out
    page.screenshot(path=str(artifacts_dir / "sla-queue.png"), full_page=True)

    open_filters(page)
    page.get_by_test_id("filter-sla").select_option("breached")
    page.get_by_test_id("apply-filters").click()
    expect(page.locator(".queue-row")).to_have_count(1)
    expect(page.locator(".queue-row")).to_contain_text("Refund is overdue")

    open_filters(page)
    page.get_by_test_id("filter-sla").select_option("due_1h")
    page.get_by_test_id("apply-filters").click()
    expect(page.locator(".queue-row")).to_have_count(2)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/desk/?view=all&sort=due")
    expect(page.get_by_test_id("sla-badge").first).to_be_visible()
    # The badge itself fits the phone's width (the queue's table scrolls sideways in its box).
    box = page.get_by_test_id("sla-badge").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(artifacts_dir / "sla-queue-phone.png"), full_page=True)

    page.locator(".ticket-link").first.click()
    expect(page.get_by_test_id("sla-panel")).to_be_visible()
    expect(page.get_by_test_id("sla-badge")).to_have_attribute("data-sla-state", "breached")
    page.screenshot(path=str(artifacts_dir / "sla-ticket-phone.png"), full_page=True)
