"""Merging a duplicate from the ticket page, in Chromium, on a desktop and a phone."""

import re

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.tests.test_dashboard_browser import csp_violations, desk, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_an_agent_merges_a_duplicate_into_the_original(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
    csp_violations,  # noqa: F811
):
    original = desk["tickets"]["Refund for a double charge"]
    duplicate, _ = services.create_ticket(
        inbox=original.inbox,
        customer=original.customer,
        subject="Charged twice!!",
        message="I wrote before: I was charged twice.",
        actor=Actor.system("Tests"),
    )
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/tickets/{duplicate.public_id}/")
    page.on("dialog", lambda dialog: dialog.accept())

    page.locator("#merge-into").fill(original.reference)
    page.get_by_test_id("merge-button").click()

    expect(page).to_have_url(re.compile(rf"/desk/tickets/{original.public_id}/"))
    expect(page.get_by_test_id("timeline")).to_contain_text("I wrote before: I was charged twice.")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"merged {duplicate.reference} into this ticket")
    expect(page.get_by_test_id("links-panel")).to_contain_text(duplicate.reference)
    page.screenshot(path=artifacts_dir / "merge-target-desktop.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/desk/tickets/{duplicate.public_id}/")
    expect(page.get_by_test_id("merged-banner")).to_contain_text(original.reference)
    expect(page.get_by_test_id("ticket-status")).to_have_text("Closed")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=artifacts_dir / "merge-source-390.png", full_page=True)
    assert not csp_violations

    duplicate = Ticket.objects.get(pk=duplicate.pk)
    assert duplicate.merged_into_id == original.pk
    assert duplicate.status == Ticket.Status.CLOSED


def test_an_agent_splits_a_message_off_and_links_two_tickets(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
    csp_violations,  # noqa: F811
):
    ticket = desk["tickets"]["Refund for a double charge"]
    other = desk["tickets"]["Cannot download my invoice"]
    services.add_message(
        ticket=ticket, body="Also: my invoice PDF is empty.", actor=Actor.for_customer(ticket.customer)
    )
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    page.locator("#link-ticket").fill(other.reference)
    page.get_by_role("button", name="Link", exact=True).click()
    expect(page.get_by_test_id("links-panel")).to_contain_text(f"Related to {other.reference}")
    page.goto(f"{live_server.url}/desk/tickets/{other.public_id}/")
    expect(page.get_by_test_id("links-panel")).to_contain_text(ticket.reference)

    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    page.get_by_test_id("split-message").click()
    split = Ticket.objects.exclude(pk__in=[t.pk for t in desk["tickets"].values()]).get()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{split.public_id}/"))
    expect(page.get_by_test_id("timeline")).to_contain_text("Also: my invoice PDF is empty.")
    expect(page.get_by_test_id("links-panel")).to_contain_text(ticket.reference)
    page.screenshot(path=artifacts_dir / "split-new-ticket-desktop.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    expect(page.get_by_test_id("timeline")).not_to_contain_text("Also: my invoice PDF is empty.")
    expect(page.get_by_test_id("links-panel")).to_contain_text(split.reference)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=artifacts_dir / "split-original-390.png", full_page=True)
    assert not csp_violations
