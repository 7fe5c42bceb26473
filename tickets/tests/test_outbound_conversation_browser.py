"""An agent starts a conversation by email in Chromium: New email from the queue, the
ticket opens pending with the agent's message, and the page shows the email's delivery."""

import re

import pytest
from playwright.sync_api import expect

from tickets.models import Delivery, Ticket
from tickets.tests.test_dashboard_browser import csp_violations, desk, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_emails_a_customer_first_and_the_ticket_waits_on_them(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
    csp_violations,  # noqa: F811
    settings,
):
    settings.SUPPORT_EMAIL_SENDER = "console"  # record deliveries (tests mail to memory)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server)

    page.get_by_test_id("new-conversation").click()
    page.get_by_label("To (customer email)").fill("lena@example.test")
    page.get_by_label("Customer name").fill("Lena Lind")
    page.get_by_label("Subject").fill("Your renewal next month")
    page.get_by_label("Message").fill("Hi Lena,\n\nyour plan renews on the 1st. **Anything to change?**")
    page.screenshot(path=artifacts_dir / "outbound-conversation-form.png", full_page=True)
    page.get_by_role("button", name="Send the email").dblclick()  # one email, one ticket

    expect(page).to_have_url(re.compile(r"/desk/tickets/[0-9A-Z]{26}/"))
    expect(page.get_by_test_id("ticket-status")).to_have_text("Pending")
    expect(page.locator(".message-card strong", has_text="Anything to change?")).to_be_visible()
    expect(page.locator(".deliveries")).to_contain_text("lena@example.test · Sent")
    page.screenshot(path=artifacts_dir / "outbound-conversation-sent.png", full_page=True)
    assert not csp_violations

    ticket = Ticket.objects.get(subject="Your renewal next month")  # one, despite the double click
    assert (ticket.status, ticket.assignee, ticket.customer.name) == ("pending", desk["agent"], "Lena Lind")
    assert Delivery.objects.filter(ticket=ticket, recipient="lena@example.test").count() == 1
