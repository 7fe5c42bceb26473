"""Chromium: an owner makes a shared macro in Settings → Macros, and an agent inserts its
reply, filled in for the ticket, from the composer's picker. Screenshots go to
test-artifacts/."""

import re

import pytest

from automation import services
from tickets.actors import Actor
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/desk/.*"))


@pytest.mark.browser
def test_a_macro_made_in_settings_is_inserted_from_the_composer(
    live_server, page, artifacts_dir, transactional_db
):
    organization = factories.make_organization(name="Acme", slug="acme")
    inbox = factories.make_inbox(organization, name="Invoices", prefix="INV", is_default=True)
    owner = factories.make_agent(organization, email="owner@acme.test", name="Olga Owner", role="owner")
    ticket = factories.make_ticket(inbox, name="Jane Doe", email="jane@example.test")
    services.create_macro(
        organization=organization, actor=Actor.agent(owner), name="Greeting", reply="Hello!", personal=True
    )

    sign_in(page, live_server, "owner@acme.test")
    page.goto(f"{live_server.url}/desk/automation/macros/new/")
    page.fill("#id_name", "Refund sent")
    page.fill("#id_reply", "Hi {{ customer_name }}, your refund for {{ ticket_reference }} is on its way.")
    page.fill("#id_shortcut", "r")
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/desk/automation/macros/$"))
    table = page.locator("[data-testid=macros-table]")
    assert "Refund sent" in table.inner_text() and "Shared" in table.inner_text()
    page.screenshot(path=artifacts_dir / "dashboard-settings-macros.png", full_page=True)

    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    page.select_option("[data-testid=reply-macro]", label="Refund sent")
    body = page.locator("#id_body").input_value()
    assert body == f"Hi Jane Doe, your refund for {ticket.reference} is on its way."
    page.screenshot(path=artifacts_dir / "dashboard-ticket-macro-picker.png")
