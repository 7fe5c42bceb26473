"""delete_inbox: what a helpdesk keeps, whatever face asks (admin's delete page stops at
some of these itself; the service is the rule)."""

import pytest

from accounts.models import AuditEvent
from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Inbox, Ticket
from tickets.tests import factories


@pytest.fixture
def spare(organization, inbox):
    return factories.make_inbox(organization, name="Spare", prefix="SPA")


def test_an_inbox_with_tickets_is_kept(owner, spare, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(inbox=spare)

    with pytest.raises(InvalidInput, match="The inbox Spare has tickets"):
        services.delete_inbox(inbox=spare, actor=Actor.agent(owner))

    assert Inbox.objects.filter(pk=spare.pk).exists()


def test_an_inbox_an_api_key_is_restricted_to_is_kept_even_once_the_key_is_revoked(
    organization, owner, spare
):
    api_key, _ = factories.make_api_key(organization, inbox=spare)
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])

    with pytest.raises(InvalidInput, match="API keys are restricted to the inbox Spare"):
        services.delete_inbox(inbox=spare, actor=Actor.agent(owner))

    api_key.refresh_from_db()
    assert api_key.inbox == spare


def test_the_last_inbox_may_go_even_though_it_is_the_default(other_organization):
    only = factories.make_inbox(other_organization, name="Only", prefix="ONL", is_default=True)
    owner = factories.make_agent(other_organization, role="owner")

    services.delete_inbox(inbox=only, actor=Actor.agent(owner))

    assert not other_organization.inboxes.exists()
    assert AuditEvent.objects.get(action="inbox_deleted").target == "Only (ONL)"


def test_an_agent_may_not_delete_an_inbox(agent, spare):
    with pytest.raises(PermissionDenied):
        services.delete_inbox(inbox=spare, actor=Actor.agent(agent))

    assert Inbox.objects.filter(pk=spare.pk).exists()
