"""axe-core in Chromium: no serious or critical accessibility violation on the pages agents
and customers use (issue 16, item 12).

One browser session walks every page, so CI starts Chromium and builds the data once. axe
is injected from ``tickets/tests/axe/axe.min.js`` (vendored for the tests only; see the
README there) and runs the WCAG 2.x A/AA rules and axe's best practices.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.actors import Actor
from tickets.portal import session as portal_session
from tickets.tests.test_dashboard_browser import desk, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
BLOCKING = {"serious", "critical"}
RUN_AXE = """async () => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.slice(0, 5).map((node) => node.target.join(" ") + " :: " + node.failureSummary),
  }));
}"""


@pytest.fixture
def browser_context_args(browser_context_args):
    """Our CSP allows no inline script; axe is injected by the test, not by the pages."""
    return {**browser_context_args, "bypass_csp": True}


def blocking_violations(page) -> list[str]:
    page.add_script_tag(content=AXE)
    found = page.evaluate(RUN_AXE)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}\n    "
        + "\n    ".join(violation["targets"])
        for violation in found
        if violation["impact"] in BLOCKING
    ]


def test_agent_and_customer_pages_have_no_serious_accessibility_violations(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    ticket = desk["tickets"]["Refund for a double charge"]
    services.add_message(ticket=ticket, body="Looking into it now.", actor=Actor.agent(desk["agent"]))
    services.add_message(
        ticket=ticket, body="Checked Stripe: two charges.", kind="note", actor=Actor.agent(desk["agent"])
    )
    ticket.refresh_from_db()
    desk["agent"].memberships.update(role="owner")  # settings are for owners and admins
    inbox = ticket.inbox
    organization = desk["organization"]
    signin_token = portal_session.make_signin_token(ticket.customer, nonce="axe")

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server)
    pages = {
        "queue": "/desk/",
        "ticket": f"/desk/tickets/{ticket.public_id}/",
        "new ticket": "/desk/tickets/new",
        "new email": "/desk/tickets/new/email",
        "settings": "/desk/settings/inboxes/",
        "settings, members": "/desk/settings/members/",
        "settings, service levels": "/desk/settings/service-levels/",
        "settings, webhooks": "/desk/settings/webhooks/",
        "reports": "/desk/reports/",
        "not found, in the dashboard": "/desk/no-such-page/",
        "private page": ticket.private_path,
        "support form": f"/t/new/{inbox.public_id}/",
        "portal sign-in": f"/t/portal/{organization.slug}/",
    }
    problems = _violations_of(page, live_server, artifacts_dir, pages, prefix="a11y")

    page.goto(f"{live_server.url}/t/portal/{organization.slug}/signin/{signin_token}/")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server.url}/t/portal/{organization.slug}/tickets/")
    problems["portal, the customer's tickets"] = blocking_violations(page)
    page.screenshot(path=artifacts_dir / "a11y-portal-tickets.png", full_page=True)

    report = "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in problems.items() if found)
    assert not report, f"serious or critical accessibility violations:\n{report}"


def test_the_same_pages_on_a_phone_have_no_serious_accessibility_violations(
    page,
    live_server,
    desk,  # noqa: F811
    artifacts_dir,
):
    """At 390 px the header hides its words and wide tables scroll: the brand link must keep
    a name, and a table that scrolls must be reachable from the keyboard."""
    ticket = desk["tickets"]["Refund for a double charge"]
    services.add_message(ticket=ticket, body="Looking into it now.", actor=Actor.agent(desk["agent"]))
    services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(desk["agent"]))
    desk["agent"].memberships.update(role="owner")
    inbox = ticket.inbox
    organization = desk["organization"]

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server)
    pages = {
        "queue": "/desk/",
        "ticket": f"/desk/tickets/{ticket.public_id}/",
        "new ticket": "/desk/tickets/new",
        "settings": "/desk/settings/inboxes/",
        "settings, members": "/desk/settings/members/",
        "settings, service levels": "/desk/settings/service-levels/",
        "settings, webhooks": "/desk/settings/webhooks/",
        "profile": "/desk/profile/",
        "reports": "/desk/reports/",
        "sla report": "/desk/reports/sla/",
        "not found, in the dashboard": "/desk/no-such-page/",
        "private page": ticket.private_path,
        "support form": f"/t/new/{inbox.public_id}/",
        "portal sign-in": f"/t/portal/{organization.slug}/",
    }
    problems = _violations_of(page, live_server, artifacts_dir, pages, prefix="a11y-390")

    report = "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in problems.items() if found)
    assert not report, f"serious or critical accessibility violations at 390 px:\n{report}"


def _violations_of(page, live_server, artifacts_dir, pages: dict, *, prefix: str) -> dict:
    """Each page's serious or critical axe violations, with a screenshot of it."""
    problems = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        expect(page.locator("main")).to_be_visible()
        problems[name] = blocking_violations(page)
        page.screenshot(
            path=artifacts_dir / f"{prefix}-{name.replace(' ', '-').replace(',', '')}.png", full_page=True
        )
    return problems
