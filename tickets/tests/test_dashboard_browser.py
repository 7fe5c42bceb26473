"""The dashboard in a real browser: Chromium through Playwright against a live server.

An agent signs in, filters the queue, sees a ticket created through the API appear
without reloading, opens a ticket, replies, adds a note, changes status and assignee.
No Content-Security-Policy violation may happen on the way.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Membership
from tickets import services
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def desk(transactional_db):
    organization = factories.make_organization(name="Acme", slug="acme")
    inbox = factories.make_inbox(
        organization, name="Invoices", prefix="INV", is_default=True, daily_limit_per_customer=None
    )
    agent = factories.make_agent(organization, email="alice@acme.test", name="Alice Agent")
    colleague = factories.make_agent(organization, email="bob@acme.test", name="Bob Builder")
    key = factories.make_api_key(organization)[1]
    system = Actor.system("Tests")
    tickets = {}
    for subject, priority, email, name in [
        ("Refund for a double charge", "urgent", "jane@example.test", "Jane Doe"),
        ("Cannot download my invoice", "normal", "max@example.test", "Max Mustermann"),
        ("How do I change my plan?", "low", "li@example.test", "Li Wei"),
        ("Card declined at checkout", "high", "sam@example.test", "Sam Smith"),
    ]:
        ticket, _ = services.create_ticket(
            inbox=inbox,
            customer=services.CustomerData(
                email=email,
                name=name,
                external_id=f"usr_{name.split()[0].lower()}",
                metadata={"plan": "pro", "token_balance": 1200},
            ),
            subject=subject,
            message=f"Hello, {subject.lower()} — can you help?",
            actor=system,
            priority=priority,
            tags=["billing"] if "charge" in subject or "Card" in subject else [],
        )
        tickets[subject] = ticket
    services.assign(ticket=tickets["Card declined at checkout"], assignee=colleague, actor=system)
    return {
        "organization": organization,
        "agent": agent,
        "colleague": colleague,
        "key": key,
        "tickets": tickets,
    }


@pytest.fixture
def csp_violations(page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/desk/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/desk/"))
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect(page.get_by_test_id("queue-table")).to_be_visible()


def test_agent_works_the_queue_and_sees_an_api_ticket_arrive_live(
    page, live_server, desk, artifacts_dir, csp_violations
):
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server)
    rows = page.locator("#queue-rows tr[data-ticket]")
    expect(rows).to_have_count(4)

    # Filter: urgent and high only.
    page.locator(".filter-panel summary").click()
    page.get_by_label("Urgent").check()
    page.get_by_label("High").check()
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(re.compile(r"priority=urgent"))
    expect(rows).to_have_count(2)
    expect(page.locator("#queue-rows")).to_contain_text("Refund for a double charge")
    expect(page.locator("#queue-rows")).not_to_contain_text("How do I change my plan?")

    # Search.
    page.get_by_placeholder(re.compile("Search subject")).fill("invoice")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(0)
    page.goto(f"{live_server.url}/desk/?view=open")
    expect(rows).to_have_count(4)

    # A ticket created through the API appears in the open queue without a reload.
    page.evaluate("window.__sameDocument = true")
    response = page.request.post(
        f"{live_server.url}/api/v1/tickets",
        headers={"X-API-Key": desk["key"], "Content-Type": "application/json"},
        data={
            "customer": {"email": "newcomer@example.test", "name": "Nora Newcomer"},
            "subject": "Arrived through the API",
            "message": "Created while the agent was watching.",
            "priority": "critical",
        },
    )
    assert response.status == 201, response.text()
    reference = response.json()["reference"]
    expect(page.locator("#queue-rows")).to_contain_text("Arrived through the API", timeout=15_000)
    expect(rows).to_have_count(5)
    expect(page.get_by_test_id("view-open")).to_contain_text("5")
    expect(page.locator(".pager")).to_contain_text("1–5 of 5")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator(f"tr.is-fresh:has-text('{reference}')")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "dashboard-queue.png"), full_page=True)

    # Bulk: select two tickets and give them a tag.
    page.locator("tr:has-text('Cannot download my invoice') input[name=ticket]").check()
    page.locator("tr:has-text('How do I change my plan?') input[name=ticket]").check()
    expect(page.locator("[data-bulk-bar]")).to_be_visible()
    page.locator("#bulk-tag").fill("docs")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator(".flash")).to_contain_text("Updated 2 tickets.")
    tagged = Ticket.objects.filter(tags__name="docs").count()
    assert tagged == 2

    assert csp_violations == []


def test_agent_answers_a_ticket_with_reply_note_status_and_assignee(
    page, live_server, desk, artifacts_dir, csp_violations, settings
):
    settings.SUPPORT_EMAIL_SENDER = "console"  # record deliveries (tests mail to memory)
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server)
    page.get_by_role("link", name=re.compile("Refund for a double charge")).click()
    expect(page.locator("h1")).to_contain_text("Refund for a double charge")
    expect(page.get_by_test_id("customer-panel")).to_contain_text("token_balance")
    expect(page.get_by_test_id("customer-panel")).to_contain_text("usr_jane")

    # Reply. (Inserting a macro's reply, filled in for the customer, is
    # automation/tests/test_macros_browser.py: macros replaced saved replies.)
    page.keyboard.press("r")
    expect(page.locator("#id_body")).to_be_focused()
    page.locator("#id_body").fill("Hi Jane Doe, the refund is on its way.")
    page.get_by_test_id("send").click()
    expect(page.locator(".flash")).to_contain_text("Reply sent.")
    reply = page.locator(".message-card.is-agent")
    expect(reply).to_contain_text("the refund is on its way")
    expect(reply.locator(".deliveries")).to_contain_text("jane@example.test · Sent")
    expect(page.get_by_test_id("ticket-status")).to_have_text("In progress")

    # An internal note, through the keyboard shortcut, looks different.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("n")
    expect(page.locator("input[name=kind][value=note]")).to_be_checked()
    page.locator("#id_body").fill("Refunded in Stripe, **ch_123**.")
    page.locator("#id_body").press("Control+Enter")
    expect(page.locator(".flash")).to_contain_text("Internal note added.")
    note = page.locator(".message-card.is-note")
    expect(note).to_contain_text("Internal note")
    expect(note.locator("strong", has_text="ch_123")).to_be_visible()

    # Status and assignee.
    page.locator("#p-assignee").select_option(label="Bob Builder")
    page.locator("#p-status").select_option("resolved")
    page.get_by_test_id("save-properties").click()
    expect(page.locator(".flash")).to_contain_text("Ticket updated.")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Bob Builder")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("assigned the ticket to Bob Builder")
    expect(timeline).to_contain_text("changed the status from in progress to resolved")

    # Help for the shortcuts opens with "?".
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shortcuts-help")).to_be_hidden()

    # The customer answers meanwhile: the thread shows it without a reload.
    ticket = desk["tickets"]["Refund for a double charge"]
    page.evaluate("window.__sameDocument = true")
    services.add_message(
        ticket=ticket, body="Got the refund, thanks!", actor=Actor.for_customer(ticket.customer)
    )
    expect(timeline).to_contain_text("Got the refund, thanks!", timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True

    ticket.refresh_from_db()
    assert ticket.status == "open"  # a customer reply reopens a resolved ticket
    assert ticket.assignee == desk["colleague"]
    page.reload()
    page.screenshot(path=str(artifacts_dir / "dashboard-ticket.png"), full_page=True)
    assert csp_violations == []


def test_bell_counts_a_new_assignment_live_and_availability_toggles(page, live_server, desk, csp_violations):
    sign_in(page, live_server)
    badge = page.get_by_test_id("bell-count")
    expect(badge).to_have_text("")
    ticket = desk["tickets"]["How do I change my plan?"]
    services.assign(ticket=ticket, assignee=desk["agent"], actor=Actor.agent(desk["colleague"]))
    expect(page.get_by_test_id("bell-count")).to_have_text("1", timeout=20_000)
    page.locator("#bell summary").click()
    expect(page.locator(".bell-panel")).to_contain_text(ticket.reference)
    page.locator(".bell-panel .notification-link").first.click()
    expect(page.locator("h1")).to_contain_text("How do I change my plan?")
    expect(page.get_by_test_id("bell-count")).to_have_text("")

    toggle = page.get_by_test_id("availability")
    expect(toggle).to_have_text(re.compile("Available"))
    toggle.click()
    expect(page.get_by_test_id("availability")).to_have_text(re.compile("Away"))
    membership = Membership.objects.get(user=desk["agent"], organization=desk["organization"])
    assert membership.is_available is False

    page.locator(".user-menu summary").click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert csp_violations == []
