"""The private ticket page in a real browser (Debian's Chromium through Playwright)."""

import pytest

from tickets import services
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def conversation(transactional_db):
    organization = factories.make_organization(name="Acme", slug="acme-browser")
    inbox = factories.make_inbox(organization, name="Billing", prefix="BIL", is_default=True)
    agent = factories.make_agent(organization, email="agent@acme.test", name="Alice Agent")
    ticket = factories.make_ticket(
        inbox,
        email="jane@example.com",
        name="Jane",
        subject="I was charged twice for my subscription",
        message="Hello, my card shows **two charges** of 19 € this month.\n\n- 3 May\n- 4 May",
    )
    services.add_message(
        ticket=ticket,
        body="Sorry about that, Jane! I can see both charges. "
        "Could you send the last four digits of the card?",
        actor=Actor.agent(agent),
    )
    services.add_message(
        ticket=ticket, body="Internal: check Stripe for duplicates", kind="note", actor=Actor.agent(agent)
    )
    ticket.refresh_from_db()
    return ticket


def test_a_customer_opens_the_private_link_and_replies_on_a_phone(
    live_server, page, conversation, artifacts_dir
):
    csp_violations = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.set_viewport_size(PHONE)

    page.goto(live_server.url + conversation.private_path)
    assert page.locator("h1").inner_text() == conversation.subject
    assert page.get_by_test_id("status").inner_text() == "In progress"
    assert page.locator(".bubble").count() == 2
    assert page.get_by_text("Internal: check Stripe").count() == 0
    assert page.locator(".bubble strong", has_text="two charges").count() == 1

    page.get_by_label("Your reply").fill("The card ends in **4242**. Thank you!")
    page.get_by_role("button", name="Send reply").click()

    page.wait_for_selector("text=Your reply was sent.")
    assert page.locator(".bubble").count() == 3
    latest = page.locator("#latest")
    assert "The card ends in 4242. Thank you!" in latest.inner_text()
    assert latest.locator("strong", has_text="4242").count() == 1
    assert conversation.messages.filter(body__contains="4242", author_customer=conversation.customer).exists()

    # Nothing sticks out sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert csp_violations == []

    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "portal-ticket-phone.png"), full_page=True)


def test_a_visitor_writes_in_through_the_support_form_and_opens_the_private_page_from_the_email(
    live_server, page, artifacts_dir
):
    organization = factories.make_organization(name="Acme", slug="acme-form")
    inbox = factories.make_inbox(organization, name="Help", prefix="HLP", is_default=True)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/t/new/{inbox.public_id}/")
    page.get_by_label("Your email").fill("sam@example.com")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Subject").fill("Export to CSV fails")
    page.get_by_label("Message").fill("Clicking *Export* shows an error.")
    # The honeypot is in the form but off the screen.
    trap = page.locator(".trap").bounding_box()
    assert trap["x"] + trap["width"] <= 0
    page.screenshot(path=str(artifacts_dir / "portal-support-form-phone.png"), full_page=True)
    page.get_by_role("button", name="Send request").click()

    page.wait_for_selector("text=Thank you, we have your request")
    assert "HLP-1" in page.locator(".reference").inner_text()
    # Anyone can type any address: the private link is only emailed, never shown here.
    assert page.locator("#private-link").count() == 0
    assert "sam@example.com" in page.locator(".card").inner_text()
    link = live_server.url + Ticket.objects.get(inbox=inbox).private_path  # the emailed link
    page.goto(link)
    assert page.locator("h1").inner_text() == "Export to CSV fails"
    assert page.locator(".bubble em", has_text="Export").count() == 1
