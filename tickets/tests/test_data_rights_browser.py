"""Chromium: an owner erases a customer from their page on a 390 px phone."""

import re

import pytest

from tickets.models import Customer
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


@pytest.fixture
def customer_with_tickets(transactional_db):
    organization = factories.make_organization(name="Acme", slug="acme")
    inbox = factories.make_inbox(organization, name="Invoices", prefix="INV", is_default=True)
    factories.make_agent(organization, email="owner@acme.test", name="Olga Owner", role="owner")
    for number in range(3):
        ticket = factories.make_ticket(
            inbox, email="jane.roe@example.com", name="Jane Roe", subject=f"Question number {number}"
        )
    return ticket.customer


@pytest.mark.browser
def test_an_owner_erases_a_customer_on_a_phone(live_server, page, artifacts_dir, customer_with_tickets):
    customer = customer_with_tickets
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "owner@acme.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/desk/.*"))

    page.goto(f"{live_server.url}/desk/customers/{customer.public_id}/")
    assert page.get_by_test_id("customer-tickets").locator("li").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts_dir / "customer-page-phone.png"), full_page=True)

    page.get_by_test_id("erase-customer").click()
    page.wait_for_url(re.compile(r".*/erase$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("confirm-erase").click()
    page.wait_for_url(re.compile(rf".*/desk/customers/{customer.public_id}/$"))
    assert page.get_by_test_id("erased-note").is_visible()
    assert "Jane" not in page.content()
    page.screenshot(path=str(artifacts_dir / "customer-page-erased-phone.png"), full_page=True)

    assert Customer.objects.get(pk=customer.pk).erased_at is not None
