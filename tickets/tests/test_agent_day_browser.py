"""The agent's day in Chromium: the queue on a phone, one send per press, the sidebar sent
with the reply, @mentions, and unread notifications in the tab's title."""

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.actors import Actor
from tickets.models import Notification, Ticket
from tickets.tests.test_dashboard_browser import csp_violations, desk, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_the_queue_fits_a_phone_as_cards_and_says_who_waits(page, live_server, desk, artifacts_dir):  # noqa: F811
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    expect(page.get_by_test_id("who-spoke-last").first).to_contain_text("waiting")
    page.screenshot(path=artifacts_dir / "agent-day-queue-390.png", full_page=True)


def test_one_press_one_send_with_the_sidebar_and_the_title_counts_unread(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
    csp_violations,  # noqa: F811
):
    page.set_viewport_size({"width": 1400, "height": 1000})
    ticket = desk["tickets"]["Refund for a double charge"]
    Notification.objects.create(user=desk["agent"], ticket=ticket, text="Something for you")
    sign_in(page, live_server)
    expect(page).to_have_title(__import__("re").compile(r"^\(1\) "))

    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    page.locator("#p-priority").select_option("high")
    expect(page.locator("[data-properties-note]")).to_be_visible()
    body = page.locator("#id_body")
    body.fill("Refund is on its way. @Bo")
    expect(page.locator("[data-mention-list] li").first).to_contain_text("Bob Builder")
    body.press("Enter")
    expect(body).to_have_value("Refund is on its way. @bob@acme.test ")
    body.press("Control+Enter")
    body.press("Control+Enter")
    expect(page.get_by_test_id("ticket-status")).to_have_text("In progress")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.priority == "high"
    assert ticket.messages.filter(body__startswith="Refund is on its way.").count() == 1
    page.screenshot(path=artifacts_dir / "agent-day-sent-once.png", full_page=True)
    assert not csp_violations
    services.add_message(ticket=ticket, body="Thanks!", actor=Actor.for_customer(ticket.customer))


def test_the_ticket_sidebar_shows_tags_once_round_badges_and_a_styled_file_button(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    """Issue 16's findings: "The 'Other tickets' badges are deformed; the file input is
    unstyled; tags show twice"."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    ticket = desk["tickets"]["Refund for a double charge"]
    services.update_ticket(ticket=ticket, tags=["billing", "vip"], actor=Actor.system("Tests"))
    older, _ = services.create_ticket(
        inbox=ticket.inbox,
        customer=services.CustomerData(email=ticket.customer.email),
        subject="Payment failed for order #12345 on the yearly plan",
        message="It failed.",
        actor=Actor.system("Tests"),
    )
    services.change_status(ticket=older, status="resolved", actor=Actor.agent(desk["agent"]))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")

    # Edited in the sidebar, shown (as links to the queue of that tag) in the header.
    expect(page.locator("#p-tags")).to_have_value("billing, vip")
    expect(page.locator(".ticket-side a.tag")).to_have_count(0)
    expect(page.locator(".ticket-badges a.tag", has_text="vip")).to_have_count(1)

    badge = page.get_by_test_id("customer-panel").locator(".other-tickets .badge").first
    box = badge.bounding_box()
    font_size = float(badge.evaluate("element => getComputedStyle(element).fontSize").removesuffix("px"))
    assert box["height"] < 2 * font_size, box  # one line, not stretched to the row's height

    file_button = page.locator("#composer input[type=file]").evaluate(
        "element => { const style = getComputedStyle(element, '::file-selector-button');"
        " return [style.borderTopLeftRadius, style.backgroundColor]; }"
    )
    assert file_button == ["6px", "rgb(255, 255, 255)"], file_button
    page.get_by_test_id("customer-panel").screenshot(path=artifacts_dir / "agent-day-sidebar.png")


def test_a_sent_reply_is_not_offered_again_by_back_and_a_fresh_draft_survives_leaving(
    page,
    live_server,
    desk,  # noqa: F811
):
    """Drafts are "removed on send": Back must not refill the composer with the sent text
    (a second Send would mail it again). Text typed just before leaving is kept as the
    draft, not by the browser."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    ticket = desk["tickets"]["Cannot download my invoice"]
    sign_in(page, live_server)
    ticket_url = f"{live_server.url}/desk/tickets/{ticket.public_id}/"
    page.goto(ticket_url)

    page.locator("#id_body").fill("Here is the invoice link.")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Here is the invoice link.")
    page.go_back()
    expect(page).to_have_url(ticket_url)
    expect(page.locator("#id_body")).to_have_value("")

    page.locator("#id_body").press_sequentially("Half a thought")
    page.locator("a", has_text="Queue").first.click()  # at once, before the draft's pause
    expect(page.get_by_test_id("queue-table")).to_be_visible()
    page.goto(ticket_url)
    expect(page.locator("#id_body")).to_have_value("Half a thought")
    assert ticket.messages.filter(body="Here is the invoice link.").count() == 1


def test_back_after_opening_a_ticket_offers_an_empty_form_not_the_same_ticket_again(
    page,
    live_server,
    desk,  # noqa: F811
):
    """A second submit after Back would carry a new one-time key and open a second ticket:
    the form opts out of the browser's restore, so Back shows it empty."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server)
    form_url = f"{live_server.url}/desk/tickets/new"
    page.goto(form_url)
    page.get_by_label("Customer email").fill("caller@example.test")
    page.get_by_label("Subject").fill("Phone: cannot log in")
    page.get_by_label("What they asked").fill("Locked out after a password reset.")
    page.get_by_role("button", name="Open the ticket").click()
    expect(page.locator("h1")).to_contain_text("Phone: cannot log in")

    page.go_back()
    expect(page).to_have_url(form_url)
    expect(page.get_by_label("Subject")).to_have_value("")
    expect(page.get_by_label("What they asked")).to_have_value("")


def test_the_profile_and_settings_pages_fit_a_phone_and_their_tables_scroll(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    """Notification preferences (profile), "Available" (members) and keys are read on a
    phone too: the page is no wider than it, and a wide table scrolls inside itself rather
    than pushing the page sideways or being cut off by its card."""
    from tickets.tests import factories

    factories.make_agent_token(desk["agent"])
    desk["agent"].memberships.update(role="owner")  # settings are for owners and admins
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)

    for name, path in {
        "profile": "/desk/profile/",
        "members": "/desk/settings/members/",
        "api-keys": "/desk/settings/api-keys/",
        "inboxes": "/desk/settings/inboxes/",
    }.items():
        page.goto(live_server.url + path)
        expect(page.locator("table").first).to_be_visible()
        root = "document.documentElement"
        overflow = page.evaluate(f"{root}.scrollWidth - {root}.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the phone"
        # Every column can be reached: a table wider than the screen scrolls by itself.
        unreachable = page.evaluate(
            """() => [...document.querySelectorAll('main table')].filter((table) => {
                const overflowX = getComputedStyle(table).overflowX;
                return table.getBoundingClientRect().right > innerWidth + 1
                  || (table.scrollWidth > table.clientWidth + 1 && !['auto', 'scroll'].includes(overflowX));
              }).length"""
        )
        assert unreachable == 0, f"{name}: {unreachable} table(s) cut off"
        page.screenshot(path=artifacts_dir / f"agent-day-{name}-390.png", full_page=True)


def test_send_and_set_pending_shows_html_as_typed_and_a_customer_reply_reopens(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    ticket = desk["tickets"]["Cannot download my invoice"]
    typed = "Run <b>bold</b> then <script>alert(1)</script> and <img src=x>"
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")

    page.locator("#id_body").fill(typed)
    page.get_by_test_id("send-pending").click()

    expect(page.get_by_test_id("ticket-status")).to_have_text("Pending")
    expect(page.get_by_test_id("timeline")).to_contain_text(typed)
    expect(page.get_by_test_id("timeline").locator("b, img, script")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "agent-day-pending-desktop.png", full_page=True)

    services.add_message(ticket=ticket, body="Still empty.", actor=Actor.for_customer(ticket.customer))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Open")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=artifacts_dir / "agent-day-reopened-390.png", full_page=True)

    page.goto(live_server.url + ticket.private_path)
    expect(page.locator("main")).to_contain_text(typed)
    page.screenshot(path=artifacts_dir / "agent-day-private-page-html-as-typed-390.png", full_page=True)


def test_an_agent_chooses_per_kind_what_reaches_the_bell(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    """Customer replies off in the bell (email kept), mentions on: a customer's reply on
    Alice's ticket leaves the title alone, Bob's @mention counts in it."""
    import re

    ticket = desk["tickets"]["Refund for a double charge"]
    services.assign(ticket=ticket, assignee=desk["agent"], actor=Actor.agent(desk["colleague"]))
    Notification.objects.filter(user=desk["agent"]).delete()
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/profile/")
    page.get_by_label(re.compile(r"^A customer replies.*: in the dashboard$")).uncheck()
    expect(page.get_by_label(re.compile(r"^A customer replies.*: by email$"))).to_be_checked()
    page.get_by_role("button", name="Save notifications").click()
    expect(page.get_by_label(re.compile(r"^A customer replies.*: in the dashboard$"))).not_to_be_checked()
    page.get_by_test_id("notification-preferences").screenshot(
        path=artifacts_dir / "agent-day-preferences-390.png"
    )

    services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))
    page.goto(f"{live_server.url}/desk/")
    expect(page).not_to_have_title(re.compile(r"^\(\d+\) "))

    services.add_message(
        ticket=ticket, body="@Alice can you check?", kind="note", actor=Actor.agent(desk["colleague"])
    )
    page.goto(f"{live_server.url}/desk/")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    assert list(Notification.objects.filter(user=desk["agent"]).values_list("kind", flat=True)) == ["mention"]


def test_a_draft_follows_the_agent_to_another_device_until_it_is_sent(
    page,
    browser,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    ticket = desk["tickets"]["How do I change my plan?"]
    ticket_url = f"{live_server.url}/desk/tickets/{ticket.public_id}/"
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server)
    page.goto(ticket_url)
    page.locator("#id_body").fill("Plans change under Billing → Plan; started on the laptop")
    page.locator("a", has_text="Queue").first.click()
    expect(page.get_by_test_id("queue-table")).to_be_visible()

    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, live_server)
    phone.goto(ticket_url)
    expect(phone.locator("#id_body")).to_have_value(
        "Plans change under Billing → Plan; started on the laptop"
    )
    phone.screenshot(path=artifacts_dir / "agent-day-draft-on-the-phone-390.png", full_page=True)
    phone.locator("#id_body").fill("Plans change under Billing → Plan.")
    phone.get_by_test_id("send").click()
    expect(phone.get_by_test_id("timeline")).to_contain_text("Plans change under Billing → Plan.")

    page.goto(ticket_url)
    expect(page.locator("#id_body")).to_have_value("")
    assert not ticket.drafts.exists()
    phone.context.close()


def test_a_long_log_shows_a_counter_and_beyond_64_ki_an_error_by_the_field(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    ticket = desk["tickets"]["Cannot download my invoice"]
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/tickets/{ticket.public_id}/")
    body = page.locator("#id_body")

    # A pasted log of 63,000 characters: near the limit, still allowed. (Set as a paste does:
    # Playwright's fill() types each line break and takes minutes over 7,000 of them.)
    body.evaluate(
        "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        "log line\n" * 7000,
    )
    expect(page.locator("#body-counter")).to_have_text("63,000 / 65,536 characters")
    expect(page.locator("[data-body-limit-error]")).to_be_hidden()
    expect(page.get_by_test_id("send")).to_be_enabled()

    body.fill("x" * 65_537)
    expect(page.locator("[data-body-limit-error]")).to_be_visible()
    expect(page.locator("[data-body-limit-error]")).to_contain_text("at most 65536 characters")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("send")).to_be_disabled()
    page.screenshot(path=artifacts_dir / "agent-day-over-the-limit-390.png", full_page=True)

    # An emoji is one character to the server, and so to the counter (two UTF-16 units in JS).
    body.evaluate(
        "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        "\N{SLIGHTLY SMILING FACE}" * 60_000,
    )
    expect(page.locator("#body-counter")).to_have_text("60,000 / 65,536 characters")
    expect(page.get_by_test_id("send")).to_be_enabled()

    # Exactly the limit, in 7,281 lines: the browser sends each line break as CR LF, and the
    # server counts it once, as the counter does.
    log = "log line\n" * 7281 + "the end"
    assert len(log) == 65_536
    body.evaluate(
        "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }", log
    )
    expect(page.get_by_test_id("send")).to_be_enabled()
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("the end")
    assert ticket.messages.order_by("-id").first().body == log
