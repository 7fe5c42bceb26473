"""403, 404 and 500 pages: the dashboard's frame for a signed-in agent under /desk/, the
portal's for customers, a plain styled page elsewhere, JSON on the machine-facing paths;
the 500 page reads nothing from the database (issue 16, item 12)."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from helpdesk import views

DASHBOARD_NAV = 'aria-label="Dashboard"'


@pytest.mark.django_db
def test_a_missing_dashboard_page_keeps_the_agent_in_the_dashboard(agent_client):
    response = agent_client.get("/desk/tickets/NOSUCHTICKET/")

    assert response.status_code == 404
    page = response.content.decode()
    assert DASHBOARD_NAV in page and "Not found" in page
    assert 'href="/desk/"' in page
    assert "favicon.svg" in page
    assert "NOSUCHTICKET" not in page  # the refused address is not echoed (isolation matrix)


@pytest.mark.django_db
def test_a_refused_settings_page_is_in_the_dashboard_with_its_navigation(agent_client):
    response = agent_client.get(reverse("dashboard:settings-members"))

    assert response.status_code == 403
    page = response.content.decode()
    assert DASHBOARD_NAV in page and "Not allowed" in page
    assert "Back to the queue" in page


@pytest.mark.django_db
def test_someone_signed_out_gets_a_plain_page_without_the_dashboard(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert DASHBOARD_NAV not in page
    assert "Not found" in page and "css/app.css" in page


@pytest.mark.django_db
def test_a_customer_on_a_stale_private_link_sees_the_portal_page_not_the_dashboard(client, ticket):
    response = client.get(f"/t/{ticket.public_id}/not-the-key/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "portal.css" in page
    assert "/desk/" not in page
    assert "latest email" in page


@pytest.mark.django_db
def test_machine_facing_paths_keep_their_json_errors(client):
    response = client.get("/api/v1/no-such-endpoint")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == 404


def test_the_500_page_reads_nothing_from_the_database():
    # No django_db mark: pytest-django refuses any database access in this test, as an
    # unreachable database would.
    request = RequestFactory().get("/desk/tickets/ABC/")

    response = views.server_error(request)

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert DASHBOARD_NAV in page and 'href="/desk/"' in page


def test_the_500_page_outside_the_dashboard_is_plain_and_falls_back_if_templates_fail(monkeypatch):
    request = RequestFactory().get("/accounts/login/")
    page = views.server_error(request).content.decode()
    assert DASHBOARD_NAV not in page and "Something went wrong" in page

    def broken(*args, **kwargs):
        raise RuntimeError("template storage unreadable")

    monkeypatch.setattr(views.loader, "render_to_string", broken)
    response = views.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/compat/appbox/api/v1/paywall/x/create-ticket"])
def test_a_refusal_on_a_machine_facing_path_is_json_in_the_native_shape(path):
    response = views.permission_denied(RequestFactory().get(path))

    assert response.status_code == 403
    body = json.loads(response.content)
    assert (body["error"], body["code"]) == ("Forbidden", 403)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/desk/tickets/NOSUCHTICKET/", "/desk/no-such-page"])
def test_with_debug_on_as_make_dev_runs_a_missing_dashboard_page_is_still_the_dashboards(
    agent_client, settings, path
):
    """`make dev` runs with DEBUG=1, where Django would answer its technical 404 page
    (echoing the address, listing the routes): a new team trying the dashboard sees ours."""
    settings.DEBUG = True

    response = agent_client.get(path)

    assert response.status_code == 404
    page = response.content.decode()
    assert DASHBOARD_NAV in page and "Not found" in page
    assert "NOSUCHTICKET" not in page and "URLconf" not in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_with_debug_on_a_stale_private_link_still_gets_the_portal_page(client, ticket, settings):
    settings.DEBUG = True

    response = client.get(f"/t/{ticket.public_id}/not-the-key/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "portal.css" in page and "latest email" in page
    assert "not-the-key" not in page
