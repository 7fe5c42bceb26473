"""Two agents on one ticket, in two browsers (issue 16, item 6): each sees the other viewing
and typing, and a reply written while the other answered asks first and shows that answer."""

import re

import pytest
from playwright.sync_api import expect

from tickets.models import Ticket
from tickets.tests.test_dashboard_browser import PASSWORD, desk  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
# Polls come every 5 s: a change shows within one poll of each page; the margin is for a
# machine shared with other test runs.
LIVE = 15_000
SLOW = 10_000


def signed_in_page(browser, live_server, email):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/desk/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))
    return page


def test_two_agents_see_each_other_and_a_reply_crossing_a_colleagues_asks_first(
    browser,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    ticket = desk["tickets"]["Refund for a double charge"]
    url = f"{live_server.url}/desk/tickets/{ticket.public_id}/"
    alice = signed_in_page(browser, live_server, "alice@acme.test")
    bob = signed_in_page(browser, live_server, "bob@acme.test")
    alice.goto(url)
    bob.goto(url)

    # Bob opened the ticket after Alice: her page learns it at its next poll.
    expect(alice.get_by_test_id("presence")).to_contain_text("Bob Builder is also viewing", timeout=LIVE)
    expect(bob.get_by_test_id("presence")).to_contain_text("Alice Agent is also viewing", timeout=SLOW)

    # Typed at a person's pace, a few seconds long.
    bob.locator("#id_body").press_sequentially("I'll call her back", delay=200)
    expect(alice.get_by_test_id("typing")).to_have_text("Bob Builder is typing…", timeout=LIVE)
    alice.screenshot(path=artifacts_dir / "collision-typing-desktop.png", full_page=True)

    alice.locator("#id_body").fill("The refund went out today.")
    bob.locator("#id_body").fill("I called her: the bank shows one charge only.")
    bob.get_by_test_id("send").click()
    expect(bob.get_by_text("Reply sent.")).to_be_visible(timeout=SLOW)

    # Bob's reply arrives in Alice's thread by itself; she presses Send without reading it:
    # asked first, with Bob's reply shown in her composer (the server would refuse too,
    # with a 409 showing the same: test_collision.py).
    expect(alice.get_by_test_id("timeline")).to_contain_text("the bank shows one charge only", timeout=LIVE)
    alice.set_viewport_size(PHONE)
    alice.get_by_test_id("send").click()
    prompt = alice.get_by_test_id("new-messages")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("A new message arrived while you were writing")
    expect(prompt).to_contain_text("the bank shows one charge only")
    overflow = alice.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    prompt.screenshot(path=artifacts_dir / "collision-new-message-390.png")
    alice.screenshot(path=artifacts_dir / "collision-new-message-390-page.png", full_page=True)
    alice.set_viewport_size(DESKTOP)
    alice.evaluate("window.scrollTo(0, 0)")
    alice.screenshot(path=artifacts_dir / "collision-new-message-desktop.png", full_page=True)
    assert not Ticket.objects.get(pk=ticket.pk).messages.filter(body="The refund went out today.").exists()

    # The text is kept; "Send anyway" sends it, once.
    expect(alice.locator("#id_body")).to_have_value("The refund went out today.")
    alice.get_by_test_id("send-anyway").click()
    expect(alice.get_by_text("Reply sent.")).to_be_visible(timeout=SLOW)
    assert Ticket.objects.get(pk=ticket.pk).messages.filter(body="The refund went out today.").count() == 1
