"""`manage.py create_api_key`: prints a working key once, and refuses unknown names clearly."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_quiet_prints_the_key_alone_and_the_key_creates_tickets(organization, inbox, client_for_key):
    out, _ = run("--organization", "acme", "--quiet")

    key = out.strip()
    assert out == key + "\n"
    assert re.fullmatch(r"hdk_[A-Za-z0-9]{8}\.[A-Za-z0-9]+", key)
    response = client_for_key(key).post(
        "/api/v1/tickets",
        {"customer": {"email": "jane@example.test"}, "subject": "Hello there", "message": "Hi"},
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_the_readable_output_names_the_scope_and_shows_the_key_once(organization, inbox):
    out, _ = run("--organization", "acme", "--name", "Billing backend")

    keys = re.findall(r"hdk_\S+", out)
    assert len(keys) == 1
    assert 'Created API key "Billing backend" for Acme (acme): all inboxes.' in out
    assert "cannot be shown again" in out
    api_key = ApiKey.objects.get_from_key(keys[0])
    assert api_key.name == "Billing backend" and api_key.inbox is None


@pytest.mark.parametrize("how", ["prefix", "lowercase prefix", "public id"])
def test_a_key_can_be_restricted_to_an_inbox_named_by_prefix_or_public_id(organization, inbox, how):
    name = {"prefix": "INV", "lowercase prefix": "inv", "public id": inbox.public_id}[how]

    out, _ = run("--organization", "acme", "--inbox", name, "--quiet")

    assert ApiKey.objects.get_from_key(out.strip()).inbox == inbox


def test_a_restricted_key_cannot_create_in_another_inbox(organization, inbox, client_for_key):
    from tickets.tests import factories

    other = factories.make_inbox(organization, name="Sales", prefix="SAL")
    key = run("--organization", "acme", "--inbox", "INV", "--quiet")[0].strip()

    response = client_for_key(key).post(
        "/api/v1/tickets",
        {
            "inbox": other.public_id,
            "customer": {"email": "a@example.test"},
            "subject": "Hello",
            "message": "x",
        },
        format="json",
    )

    assert response.status_code == 403


def test_an_expiring_key_has_its_expiry_date(organization, inbox):
    out, _ = run("--organization", "acme", "--expires-in-days", "30", "--quiet")

    assert ApiKey.objects.get_from_key(out.strip()).expiry_date is not None


def test_an_unknown_organization_is_a_clear_error_listing_the_known_ones(organization, other_organization):
    with pytest.raises(
        CommandError, match=r'Unknown organization "nope"\. Known organizations: acme, globex\.'
    ):
        run("--organization", "nope")
    assert not ApiKey.objects.exists()


def test_an_unknown_inbox_is_a_clear_error_listing_the_organizations_inboxes(
    organization, inbox, other_inbox
):
    with pytest.raises(CommandError, match=r'No inbox "GLX" in acme\. Its inboxes: INV \('):
        run("--organization", "acme", "--inbox", "GLX")
    assert not ApiKey.objects.exists()


def test_the_command_exits_non_zero_with_the_message_on_stderr(organization, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "create_api_key", "--organization", "nope"]).execute()

    assert exited.value.code == 1
    assert 'Unknown organization "nope"' in capsys.readouterr().err
