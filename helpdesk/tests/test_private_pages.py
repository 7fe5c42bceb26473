"""Pages of a person's own are never kept by a shared cache or the browser's disk cache."""

import pytest
from django.urls import reverse


def _directives(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_dashboard_pages_are_private_and_never_stored(agent_client, ticket):
    # Before: the dashboard sent no Cache-Control at all.
    for url in (reverse("dashboard:queue"), reverse("dashboard:ticket", args=[ticket.public_id])):
        response = agent_client.get(url)
        assert response.status_code == 200
        assert {"private", "no-store"} <= _directives(response), url


@pytest.mark.django_db
def test_portal_and_sign_in_pages_are_private_and_never_stored(client, organization, inbox):
    for url in (f"/t/portal/{organization.slug}/", f"/t/new/{inbox.public_id}/", "/accounts/login/"):
        response = client.get(url)
        assert response.status_code == 200
        assert {"private", "no-store"} <= _directives(response), url
