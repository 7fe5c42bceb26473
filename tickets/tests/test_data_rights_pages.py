"""Customers' data rights from the dashboard (owners and admins) and from Django admin."""

import io
import json
import zipfile

import pytest
from django.test import Client

from accounts.models import AuditEvent, User
from tickets.models import Customer, Message
from tickets.tests import factories


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(inbox):
    return factories.make_ticket(
        inbox,
        email="jane.roe@example.com",
        name="Jane Roe",
        subject="Lost parcel",
        message="Ostrich feathers",
    )


@pytest.fixture
def customer(ticket):
    return ticket.customer


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _zip_document(response) -> dict:
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return json.loads(archive.read("customer.json"))


def test_the_ticket_page_links_to_the_customer_page(agent, ticket, customer):
    page = _signed_in(agent).get(f"/desk/tickets/{ticket.public_id}/")
    assert f'href="/desk/customers/{customer.public_id}/"' in page.content.decode()


def test_an_agent_sees_the_customer_page_without_the_data_rights(agent, customer, ticket):
    client = _signed_in(agent)
    page = client.get(f"/desk/customers/{customer.public_id}/")
    assert page.status_code == 200
    assert "private" in page["Cache-Control"] and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "jane.roe@example.com" in html and ticket.reference in html
    assert 'data-testid="data-rights"' not in html
    assert client.get(f"/desk/customers/{customer.public_id}/export").status_code == 403
    assert client.get(f"/desk/customers/{customer.public_id}/erase").status_code == 403
    assert client.post(f"/desk/customers/{customer.public_id}/erase").status_code == 403
    assert Customer.objects.get(pk=customer.pk).erased_at is None
    assert not AuditEvent.objects.filter(action__startswith="customer_e").exists()


def test_another_organization_and_anonymous_people_do_not_reach_the_customer(customer, other_agent):
    client = _signed_in(other_agent)
    for suffix in ("", "export", "erase"):
        assert client.get(f"/desk/customers/{customer.public_id}/{suffix}").status_code == 404
    anonymous = Client().get(f"/desk/customers/{customer.public_id}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_an_owner_downloads_and_erases_from_the_customer_page(owner, customer, ticket):
    client = _signed_in(owner)
    page = client.get(f"/desk/customers/{customer.public_id}/").content.decode()
    assert 'data-testid="data-rights"' in page

    download = client.get(f"/desk/customers/{customer.public_id}/export")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert _zip_document(download)["tickets"][0]["messages"][0]["body"] == "Ostrich feathers"
    assert AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_EXPORTED).actor_user == owner

    confirm = client.get(f"/desk/customers/{customer.public_id}/erase")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Customer.objects.get(pk=customer.pk).erased_at is None
    erased = client.post(f"/desk/customers/{customer.public_id}/erase")
    assert erased.status_code == 302
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.email == "" and customer.name == ""
    assert not Message.objects.filter(body__contains="Ostrich").exists()
    after = client.get(f"/desk/customers/{customer.public_id}/").content.decode()
    assert 'data-testid="erased-note"' in after and "jane" not in after.lower()
    assert AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_ERASED).actor_user == owner


@pytest.fixture
def staff(organization):
    return User.objects.create_superuser(email="root@example.test", password="pw", name="Root")


def test_admin_change_page_offers_export_and_erase(staff, customer):
    client = _signed_in(staff)
    change = client.get(f"/admin/tickets/customer/{customer.pk}/change/").content.decode()
    assert f"/admin/tickets/customer/{customer.pk}/export/" in change
    assert f"/admin/tickets/customer/{customer.pk}/erase/" in change

    download = client.get(f"/admin/tickets/customer/{customer.pk}/export/")
    assert download.status_code == 200
    assert _zip_document(download)["customer"]["email"] == "jane.roe@example.com"

    assert client.get(f"/admin/tickets/customer/{customer.pk}/erase/").status_code == 200
    done = client.post(f"/admin/tickets/customer/{customer.pk}/erase/")
    assert done.status_code == 302
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.email == ""
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditEvent.Action.CUSTOMER_EXPORTED, AuditEvent.Action.CUSTOMER_ERASED} <= actions
    assert client.get(f"/admin/tickets/customer/{customer.pk}/change/").status_code == 200
    assert client.get("/admin/tickets/customer/?erased_at__isnull=False").status_code == 200


def test_admin_data_rights_need_staff(agent, customer):
    client = _signed_in(agent)
    response = client.get(f"/admin/tickets/customer/{customer.pk}/export/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_customer_page_runs_a_fixed_number_of_queries(owner, inbox, count, django_assert_max_num_queries):
    for _ in range(count):
        ticket = factories.make_ticket(inbox, email="many@example.com")
    client = _signed_in(owner)
    with django_assert_max_num_queries(16):
        page = client.get(f"/desk/customers/{ticket.customer.public_id}/")
    assert page.status_code == 200
    assert page.content.decode().count('class="ref"') == count
