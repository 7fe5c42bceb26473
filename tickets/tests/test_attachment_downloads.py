"""Files leave only through authenticated views, as downloads that cannot run.

Before: under DEBUG, /media/... served an uploaded .html inline and a .js as
text/javascript without authentication, and in production admin's attachment links
(the storage URL, /media/...) were 404s.
"""

import importlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import Resolver404, clear_url_caches, resolve, reverse

from tickets.models import Attachment

HTML = b"<script>alert(document.cookie)</script>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def page_attachment(ticket):
    """An .html file on the customer's first message (inbound mail can bring any type)."""
    attachment = Attachment(
        message=ticket.messages.get(), filename="invoice.html", content_type="text/html", size=len(HTML)
    )
    attachment.file.save("invoice.html", ContentFile(HTML), save=False)
    attachment.save()
    return attachment


def _assert_download_that_cannot_run(response):
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == HTML
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="invoice.html"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_the_dashboard_download_is_an_attachment_with_a_sandbox(agent_client, page_attachment):
    _assert_download_that_cannot_run(
        agent_client.get(reverse("dashboard:attachment", args=[page_attachment.public_id]))
    )


def test_the_portal_download_is_an_attachment_with_a_sandbox(client, ticket, page_attachment):
    _assert_download_that_cannot_run(
        client.get(f"{ticket.private_path}attachments/{page_attachment.public_id}/")
    )


@pytest.fixture
def staff_client(db):
    staff = get_user_model().objects.create_superuser(email="root@example.test", password="x" * 20)
    client = Client()
    client.force_login(staff)
    return client


def test_admin_links_use_its_download_view_and_it_serves_the_file(staff_client, ticket, page_attachment):
    download = reverse("admin:tickets_attachment_download", args=[page_attachment.pk])
    pages = [
        reverse("admin:tickets_attachment_change", args=[page_attachment.pk]),
        reverse("admin:tickets_attachment_changelist"),
        reverse("admin:tickets_message_change", args=[page_attachment.message.pk]),
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
    ]
    for page in pages:
        html = staff_client.get(page).content.decode()
        assert download in html, page
        assert "/media/" not in html, page
    _assert_download_that_cannot_run(staff_client.get(download))


def test_the_admin_download_needs_staff(client, agent, page_attachment):
    download = reverse("admin:tickets_attachment_download", args=[page_attachment.pk])
    assert client.get(download).status_code == 302  # to admin's sign-in
    client.force_login(agent)
    response = client.get(download)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_media_is_never_routed_not_even_under_debug(page_attachment):
    import helpdesk.urls

    try:
        with override_settings(DEBUG=True):
            clear_url_caches()
            importlib.reload(helpdesk.urls)
            with pytest.raises(Resolver404):
                resolve(f"/media/{page_attachment.file.name}")
    finally:
        clear_url_caches()
        importlib.reload(helpdesk.urls)
    assert Client().get(f"/media/{page_attachment.file.name}").status_code == 404
