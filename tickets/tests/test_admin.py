"""The ticket domain in Django admin: every page renders, changelists cost the same at 3
and 30 rows, and every change staff make goes through the services and leaves an event."""

import json
import re

import pytest

from accounts.models import AuditEvent, Membership, User
from tickets import services
from tickets.actors import Actor
from tickets.models import (
    Attachment,
    Customer,
    Delivery,
    IdempotencyKey,
    Inbox,
    Message,
    Notification,
    SavedReply,
    Tag,
    Ticket,
    TicketEvent,
)
from tickets.tests import factories
from tickets.tests.admin_helpers import (
    admin_url,
    assert_changelist_queries_do_not_grow,
    browser_form,
    messages_of,
)

# Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def staff(organization):
    """A superuser who is also an agent of ``organization`` (so "assign to me" can work)."""
    user = User.objects.create_superuser(email="admin@acme.test", password="pw", name="Ada Admin")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def thread(inbox, agent):
    """A ticket with a customer message, an agent reply, a note, a tag and a delivery."""
    ticket = factories.make_ticket(
        inbox, email="jane@example.test", subject="Refund for order 12", tags=["billing"]
    )
    # Left unassigned (a reply would otherwise assign it to its agent).
    services.add_message(
        ticket=ticket, body="We are on it.", actor=Actor.agent(agent), changes={"assignee": None}
    )
    services.add_message(ticket=ticket, body="Check Stripe.", kind="note", actor=Actor.agent(agent))
    Delivery.objects.create(
        ticket=ticket, recipient="jane@example.test", kind=Delivery.Kind.CONFIRMATION, status="sent"
    )
    Notification.objects.create(user=agent, ticket=ticket, text="Assigned to you")
    IdempotencyKey.objects.create(
        organization=inbox.organization, key="retry-1", fingerprint="x", ticket=ticket
    )
    SavedReply.objects.create(
        organization=inbox.organization, title="Refund", body="Hello {{ customer_name }}"
    )
    message = ticket.messages.first()
    Attachment.objects.create(
        message=message,
        file="attachments/x/receipt.pdf",
        filename="receipt.pdf",
        content_type="application/pdf",
        size=10,
    )
    return Ticket.objects.get(pk=ticket.pk)


def event_actions(ticket) -> list[tuple[str, str]]:
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("action", "actor_label"))


# Every page renders ---------------------------------------------------------------------

TICKET_MODELS = [
    Customer,
    Ticket,
    Message,
    Attachment,
    Tag,
    TicketEvent,
    IdempotencyKey,
    Delivery,
    Notification,
    SavedReply,
]


@pytest.mark.parametrize("model", TICKET_MODELS + [factories.Inbox], ids=lambda model: model.__name__)
def test_every_ticket_model_has_a_changelist_and_a_change_page_that_render(staff_client, thread, model):
    changelist = staff_client.get(admin_url(model))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1

    instance = model.objects.first()
    change = staff_client.get(admin_url(model, "change", instance.pk))
    assert change.status_code == 200

    searched = staff_client.get(admin_url(model), {"q": "refund"})
    assert searched.status_code == 200


@pytest.mark.parametrize("model", [Customer, Ticket, Tag, factories.Inbox], ids=lambda m: m.__name__)
def test_models_staff_create_in_admin_have_an_add_page(staff_client, organization, model):
    assert staff_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", [Message, Attachment, TicketEvent, Delivery, Notification, SavedReply])
def test_history_cannot_be_added_or_edited_in_admin(staff_client, thread, model):
    instance = model.objects.first()
    assert staff_client.get(admin_url(model, "add")).status_code == 403
    assert staff_client.post(admin_url(model, "change", instance.pk), {}).status_code == 403


# Changelists cost the same at 3 and 30 rows -------------------------------------------------


def _make_rows(inbox, agent, count: int) -> None:
    for number in range(count):
        ticket = factories.make_ticket(
            inbox,
            email=f"customer{Ticket.objects.count()}@example.test",
            tags=["vip", f"tag-{number % 4}"],
        )
        services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(agent))
        services.add_message(ticket=ticket, body="Looking.", actor=Actor.agent(agent))
        Delivery.objects.create(ticket=ticket, recipient="x@example.test", kind=Delivery.Kind.CONFIRMATION)


@pytest.mark.parametrize(
    "model", [Ticket, Message, Customer, TicketEvent, Delivery], ids=lambda m: m.__name__
)
def test_changelist_query_count_does_not_grow_with_rows(
    staff_client, inbox, agent, model, django_assert_max_num_queries
):
    few, many = assert_changelist_queries_do_not_grow(
        staff_client,
        admin_url(model),
        lambda count: _make_rows(inbox, agent, count),
        django_assert_max_num_queries,
    )

    assert many >= 30 and many >= few * 5


# The ticket form routes every change through the services --------------------------------------


def test_saving_the_ticket_form_changes_fields_through_services_with_one_event_each(
    staff_client, staff, thread, agent
):
    url = admin_url(Ticket, "change", thread.pk)
    data = browser_form(
        staff_client,
        url,
        subject="Refund for order 12 (charged twice)",
        priority="high",
        assignee=str(agent.pk),
        tag_names="billing, refund",
        status="resolved",
        _save="Save",
    )
    extra = int(data["messages-TOTAL_FORMS"]) - 1
    data[f"messages-{extra}-kind"] = "reply"
    data[f"messages-{extra}-body"] = "Refunded, sorry about that."

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    thread.refresh_from_db()
    assert thread.subject == "Refund for order 12 (charged twice)"
    assert thread.priority == "high"
    assert thread.assignee == agent
    assert thread.status == "resolved"
    assert sorted(tag.name for tag in thread.tags.all()) == ["billing", "refund"]
    reply = thread.messages.last()
    assert (reply.body, reply.author_user, reply.kind) == ("Refunded, sorry about that.", staff, "reply")

    new_events = TicketEvent.objects.filter(ticket=thread, actor_user=staff)
    by_field = {(event.action, event.field): event for event in new_events}
    assert by_field[("updated", "subject")].after == "Refund for order 12 (charged twice)"
    assert by_field[("updated", "priority")].before == "normal"
    assert by_field[("tags_changed", "tags")].after == ["billing", "refund"]
    assert by_field[("assigned", "assignee")].after == agent.pk
    assert ("replied", "") in by_field
    assert by_field[("status_changed", "status")].after == "resolved"
    assert all(event.actor_label == "Ada Admin" for event in new_events)


def test_saving_the_ticket_form_without_changes_records_nothing(staff_client, thread):
    url = admin_url(Ticket, "change", thread.pk)
    before = TicketEvent.objects.filter(ticket=thread).count()

    response = staff_client.post(url, browser_form(staff_client, url, _save="Save"))

    assert response.status_code == 302
    assert TicketEvent.objects.filter(ticket=thread).count() == before
    assert thread.messages.count() == 3


def test_an_internal_note_added_in_admin_is_a_note_event(staff_client, staff, thread):
    url = admin_url(Ticket, "change", thread.pk)
    data = browser_form(staff_client, url, _continue="Save")
    extra = int(data["messages-TOTAL_FORMS"]) - 1
    data[f"messages-{extra}-kind"] = "note"
    data[f"messages-{extra}-body"] = "Customer is a VIP."

    assert staff_client.post(url, data).status_code == 302

    note = thread.messages.last()
    assert (note.kind, note.body, note.author_user) == ("note", "Customer is a VIP.", staff)
    assert TicketEvent.objects.filter(ticket=thread, action="note_added", actor_user=staff).exists()


def test_a_closed_ticket_offers_only_the_moves_the_state_machine_allows(staff_client, staff, thread):
    services.change_status(ticket=thread, status="closed", actor=Actor.agent(staff))

    response = staff_client.get(admin_url(Ticket, "change", thread.pk))

    choices = [value for value, _ in response.context["adminform"].form.fields["status"].choices]
    assert choices == ["open", "closed"]


def test_an_illegal_status_posted_anyway_is_a_form_error_and_changes_nothing(staff_client, staff, thread):
    services.change_status(ticket=thread, status="closed", actor=Actor.agent(staff))
    url = admin_url(Ticket, "change", thread.pk)

    response = staff_client.post(url, browser_form(staff_client, url, status="resolved", _save="Save"))

    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    thread.refresh_from_db()
    assert thread.status == "closed"


def test_a_too_short_subject_is_a_form_error_with_the_services_message(staff_client, thread):
    url = admin_url(Ticket, "change", thread.pk)

    response = staff_client.post(url, browser_form(staff_client, url, subject="ab", _save="Save"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["subject"] == ["Must be between 3 and 200 characters."]


def test_an_assignee_from_another_organization_is_refused(staff_client, thread, other_agent):
    url = admin_url(Ticket, "change", thread.pk)

    response = staff_client.post(
        url, browser_form(staff_client, url, assignee=str(other_agent.pk), _save="Save")
    )

    assert response.status_code == 200
    assert "assignee" in response.context["adminform"].form.errors
    thread.refresh_from_db()
    assert thread.assignee is None


def test_adding_a_ticket_in_admin_creates_it_through_the_service(staff_client, staff, inbox, agent):
    customer, _ = services.upsert_customer(
        organization=inbox.organization, data=services.CustomerData(email="max@example.test", name="Max")
    )
    data = browser_form(
        staff_client,
        admin_url(Ticket, "add"),
        inbox=str(inbox.pk),
        customer=str(customer.pk),
        subject="Phoned in: cannot export",
        message="Max called: the CSV export is empty.",
        priority="urgent",
        assignee=str(agent.pk),
        tag_names="export, phone",
        metadata='{"plan": "pro"}',
        _save="Save",
    )

    response = staff_client.post(admin_url(Ticket, "add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    ticket = Ticket.objects.get()
    assert (ticket.reference, ticket.number) == ("INV-1", 1)
    assert ticket.customer == customer
    assert ticket.channel == "agent"
    assert ticket.assignee == agent and ticket.status == "in_progress"
    assert ticket.metadata == {"plan": "pro"}
    assert sorted(tag.name for tag in ticket.tags.all()) == ["export", "phone"]
    assert ticket.messages.get().body == "Max called: the CSV export is empty."
    assert ("created", "Ada Admin") in event_actions(ticket)
    assert ("assigned", "Ada Admin") in event_actions(ticket)


def test_a_ticket_added_in_admin_takes_its_inboxs_custom_fields_checked_as_the_api_checks_them(
    staff_client, inbox
):
    services.create_custom_field(
        organization=inbox.organization,
        actor=Actor.system("Tests"),
        key="amount",
        label="Amount",
        type="number",
    )
    customer, _ = services.upsert_customer(
        organization=inbox.organization, data=services.CustomerData(email="max@example.test")
    )
    url = admin_url(Ticket, "add")
    form = browser_form(
        staff_client, url, inbox=str(inbox.pk), customer=str(customer.pk), subject="Refund", message="Hi"
    )

    refused = staff_client.post(
        url, {**form, "custom_fields": json.dumps({"amount": "many"}), "_save": "Save"}
    )
    assert refused.status_code == 200
    assert "custom_fields.amount: Must be a whole number." in str(
        refused.context["adminform"].form.errors["custom_fields"]
    )
    not_an_object = staff_client.post(url, {**form, "custom_fields": "[]", "_save": "Save"})
    assert "Must be a JSON object." in str(not_an_object.context["adminform"].form.errors["custom_fields"])
    assert not Ticket.objects.exists()

    added = staff_client.post(url, {**form, "custom_fields": json.dumps({"amount": 42}), "_save": "Save"})
    assert added.status_code == 302
    assert Ticket.objects.get().custom_fields == {"amount": 42}


def test_adding_a_ticket_for_a_customer_of_another_organization_is_refused(
    staff_client, inbox, other_organization
):
    stranger, _ = services.upsert_customer(
        organization=other_organization, data=services.CustomerData(email="x@globex.test")
    )
    data = browser_form(
        staff_client,
        admin_url(Ticket, "add"),
        inbox=str(inbox.pk),
        customer=str(stranger.pk),
        subject="Wrong tenant",
        message="Hello",
        _save="Save",
    )

    response = staff_client.post(admin_url(Ticket, "add"), data)

    assert response.status_code == 200
    assert "customer" in response.context["adminform"].form.errors
    assert not Ticket.objects.exists()


def test_a_ticket_over_the_daily_limit_is_refused_with_a_message_and_nothing_saved(staff_client, inbox):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])
    first = factories.make_ticket(inbox, email="busy@example.test")
    factories.make_ticket(inbox, email="busy@example.test")
    data = browser_form(
        staff_client,
        admin_url(Ticket, "add"),
        inbox=str(inbox.pk),
        customer=str(first.customer_id),
        subject="Third today",
        message="Again",
        tag_names="new-tag",
        _save="Save",
    )

    response = staff_client.post(admin_url(Ticket, "add"), data, follow=True)

    assert response.status_code == 200
    assert any("limit of 2 new tickets per day" in text for text in messages_of(response))
    assert Ticket.objects.count() == 2
    assert not Tag.objects.filter(name="new-tag").exists()


# Actions -----------------------------------------------------------------------------------


def _act(client, action: str, tickets) -> list[str]:
    response = client.post(
        admin_url(Ticket),
        {"action": action, "_selected_action": [str(ticket.pk) for ticket in tickets]},
        follow=True,
    )
    assert response.status_code == 200
    return messages_of(response)


def test_status_actions_go_through_the_state_machine_and_record_events(staff_client, staff, inbox):
    first, second = factories.make_ticket(inbox), factories.make_ticket(inbox)

    assert _act(staff_client, "resolve", [first, second]) == [
        f"Resolved: {first.reference}, {second.reference}."
    ]
    first.refresh_from_db()
    assert first.status == "resolved" and first.resolved_at is not None
    _act(staff_client, "close", [first])
    _act(staff_client, "reopen", [first])

    first.refresh_from_db()
    assert first.status == "open"
    moves = TicketEvent.objects.filter(ticket=first, action="status_changed", actor_user=staff)
    assert [(event.before, event.after) for event in moves] == [
        ("open", "resolved"),
        ("resolved", "closed"),
        ("closed", "open"),
    ]


def test_an_action_refused_for_some_tickets_reports_them_and_applies_to_the_rest(staff_client, staff, inbox):
    closed, open_ticket = factories.make_ticket(inbox), factories.make_ticket(inbox)
    services.change_status(ticket=closed, status="closed", actor=Actor.agent(staff))

    texts = _act(staff_client, "resolve", [closed, open_ticket])

    assert f"Resolved: {open_ticket.reference}." in texts
    assert any(
        text.startswith(f"Refused — {closed.reference}: A closed ticket cannot become resolved")
        for text in texts
    )
    closed.refresh_from_db()
    assert closed.status == "closed"


def test_assign_to_me_assigns_the_staff_member_and_moves_the_ticket_in_progress(
    staff_client, staff, inbox, django_capture_on_commit_callbacks
):
    ticket = factories.make_ticket(inbox)

    with django_capture_on_commit_callbacks(execute=True):
        _act(staff_client, "assign_to_me", [ticket])

    ticket.refresh_from_db()
    assert ticket.assignee == staff and ticket.status == "in_progress"
    assert TicketEvent.objects.filter(ticket=ticket, action="assigned", actor_user=staff).exists()
    # Nobody is notified of what they did themselves.
    assert not Notification.objects.filter(user=staff, ticket=ticket).exists()


def test_assign_to_me_is_refused_for_an_organization_the_staff_member_is_not_in(
    staff_client, staff, other_inbox
):
    ticket = factories.make_ticket(other_inbox)

    texts = _act(staff_client, "assign_to_me", [ticket])

    assert any("Not an agent of this organization" in text for text in texts)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_set_priority_and_rotate_private_link_record_events(staff_client, staff, inbox):
    ticket = factories.make_ticket(inbox)
    old_key = ticket.access_key

    _act(staff_client, "set_priority_urgent", [ticket])
    _act(staff_client, "rotate_private_link", [ticket])

    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert ticket.access_key != old_key
    actions = {event.action for event in TicketEvent.objects.filter(ticket=ticket, actor_user=staff)}
    assert actions == {"updated", "access_key_rotated"}


def test_actions_can_be_run_from_the_ticket_page(staff_client, staff, thread):
    url = admin_url(Ticket, "change", thread.pk)

    response = staff_client.post(
        url, {"CHANGE_FORM-action": "close", "_selected_action": [str(thread.pk)]}, follow=True
    )

    assert response.status_code == 200
    thread.refresh_from_db()
    assert thread.status == "closed"


# Customers and tags go through their services too --------------------------------------------


def test_adding_and_editing_a_customer_in_admin_uses_the_customer_services(staff_client, organization):
    add = browser_form(
        staff_client,
        admin_url(Customer, "add"),
        organization=str(organization.pk),
        email="  John@ACME.com ",
        external_id="user_42",
        name="John",
        metadata='{"plan": "pro", "token_balance": 1200}',
        _save="Save",
    )
    assert staff_client.post(admin_url(Customer, "add"), add).status_code == 302
    customer = Customer.objects.get()
    assert (customer.email, customer.external_id, customer.metadata["plan"]) == (
        "john@acme.com",
        "user_42",
        "pro",
    )

    url = admin_url(Customer, "change", customer.pk)
    response = staff_client.post(url, browser_form(staff_client, url, email="not-an-email", _save="Save"))
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors

    response = staff_client.post(url, browser_form(staff_client, url, name="John Smith", _save="Save"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "John Smith" and customer.external_id == "user_42"


def test_a_duplicate_customer_email_in_one_organization_is_a_form_error(staff_client, organization):
    services.upsert_customer(organization=organization, data=services.CustomerData(email="a@example.test"))
    add = browser_form(
        staff_client,
        admin_url(Customer, "add"),
        organization=str(organization.pk),
        email="a@example.test",
        _save="Save",
    )

    response = staff_client.post(admin_url(Customer, "add"), add)

    assert response.status_code == 200
    assert Customer.objects.count() == 1


def test_tags_are_renamed_and_refused_as_duplicates(staff_client, organization):
    billing, _ = services.get_or_create_tag(organization=organization, name="billing")
    services.get_or_create_tag(organization=organization, name="refund")
    url = admin_url(Tag, "change", billing.pk)

    refused = staff_client.post(url, browser_form(staff_client, url, name="refund", _save="Save"))
    renamed = staff_client.post(url, browser_form(staff_client, url, name="payments", _save="Save"))

    assert refused.status_code == 200 and "name" in refused.context["adminform"].form.errors
    assert renamed.status_code == 302
    billing.refresh_from_db()
    assert billing.name == "payments"


def test_notifications_can_be_marked_read_in_bulk(staff_client, thread, agent):
    notification = Notification.objects.get()

    staff_client.post(
        admin_url(Notification), {"action": "mark_read", "_selected_action": [str(notification.pk)]}
    )

    notification.refresh_from_db()
    assert notification.read_at is not None


def test_failed_deliveries_can_be_sent_again_from_admin(staff_client, thread):
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, last_error="SMTP 421")

    response = staff_client.post(
        admin_url(Delivery),
        {"action": "retry_deliveries_action", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )

    assert "Queued 1 delivery again." in messages_of(response)
    delivery.refresh_from_db()
    assert delivery.status != Delivery.Status.FAILED


def test_staff_without_superuser_rights_see_nothing_they_lack_permission_for(client, organization):
    plain_staff = User.objects.create_user(email="helper@acme.test", password="pw", is_staff=True)
    client.force_login(plain_staff)

    assert client.get(admin_url(Ticket)).status_code == 403


def test_staff_who_may_only_view_tickets_get_no_ticket_actions(client, inbox):
    from django.contrib.auth.models import Permission

    ticket = factories.make_ticket(inbox)
    viewer = User.objects.create_user(email="viewer@acme.test", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(viewer)

    listing = client.get(admin_url(Ticket))
    client.post(admin_url(Ticket), {"action": "close", "_selected_action": [str(ticket.pk)]})

    assert listing.status_code == 200
    action_form = listing.context["action_form"]
    offered = [value for value, _ in action_form.fields["action"].choices] if action_form else []
    assert "close" not in offered
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_admin_requires_a_staff_login(client, thread):
    response = client.get(admin_url(Ticket))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_json_metadata_is_shown_and_kept_on_save(staff_client, inbox):
    ticket = factories.make_ticket(inbox, metadata={"orderId": "12345", "amount": 99.9})
    url = admin_url(Ticket, "change", ticket.pk)
    data = browser_form(staff_client, url, _save="Save")

    assert json.loads(data["metadata"]) == {"orderId": "12345", "amount": 99.9}
    assert staff_client.post(url, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.metadata == {"orderId": "12345", "amount": 99.9}
    assert not TicketEvent.objects.filter(ticket=ticket, action="updated").exists()


def test_custom_fields_are_shown_and_changed_in_admin_through_update_ticket(staff_client, staff, inbox):
    for key, kind in (("order_id", "text"), ("amount", "number")):
        services.create_custom_field(
            organization=inbox.organization, actor=Actor.system("Tests"), key=key, label=key, type=kind
        )
    ticket = factories.make_ticket(inbox, custom_fields={"order_id": "A-1", "amount": 5})
    url = admin_url(Ticket, "change", ticket.pk)
    data = browser_form(staff_client, url, _save="Save")
    assert json.loads(data["custom_fields"]) == {"order_id": "A-1", "amount": 5}

    response = staff_client.post(url, {**data, "custom_fields": json.dumps({"amount": "many"})})
    assert response.status_code == 200
    assert "custom_fields.amount: Must be a whole number." in str(
        response.context["adminform"].form.errors["custom_fields"]
    )

    assert staff_client.post(url, {**data, "custom_fields": json.dumps({"amount": 7})}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"amount": 7}  # order_id, left out, is cleared.

    # A value set by someone else while the page was open stays.
    data = browser_form(staff_client, url, _save="Save")
    services.update_ticket(ticket=ticket, actor=Actor.system("Tests"), custom_fields={"order_id": "A-2"})
    assert staff_client.post(url, {**data, "custom_fields": json.dumps({"amount": 8})}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"amount": 8, "order_id": "A-2"}
    assert set(
        TicketEvent.objects.filter(ticket=ticket, actor_user=staff).values_list("field", "before", "after")
    ) == {
        ("custom_fields.order_id", "A-1", None),
        ("custom_fields.amount", 5, 7),
        ("custom_fields.amount", 7, 8),
    }


# Inboxes and saved replies: through their services, each with its audit event -----------------


def audit(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


def delete_in_admin(client, instance):
    return client.post(admin_url(type(instance), "delete", instance.pk), {"post": "yes"}, follow=True)


def delete_selected(client, model, instances):
    return client.post(
        admin_url(model),
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(i.pk) for i in instances]},
        follow=True,
    )


def test_an_inbox_added_and_changed_in_admin_is_audited_and_may_take_the_default(
    staff_client, staff, organization, inbox
):
    add = browser_form(
        staff_client,
        admin_url(Inbox, "add"),
        organization=str(organization.pk),
        name="Sales",
        prefix="SAL",
        _save="Save",
    )
    assert staff_client.post(admin_url(Inbox, "add"), add).status_code == 302
    sales = Inbox.objects.get(prefix="SAL")
    url = admin_url(Inbox, "change", sales.pk)

    response = staff_client.post(
        url, browser_form(staff_client, url, is_default="on", daily_limit_per_customer="3", _save="Save")
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    sales.refresh_from_db()
    inbox.refresh_from_db()
    assert (sales.is_default, sales.daily_limit_per_customer, inbox.is_default) == (True, 3, False)
    assert [event.target for event in audit("inbox_created", actor_user=staff)] == ["Sales (SAL)"]
    (updated,) = audit("inbox_updated", actor_user=staff)
    assert updated.changes == {
        "is_default": {"before": False, "after": True},
        "daily_limit_per_customer": {"before": None, "after": 3},
    }


def test_an_inboxs_satisfaction_survey_is_set_in_admin_through_its_service(staff_client, inbox, staff):
    url = admin_url(Inbox, "change", inbox.pk)
    form = browser_form(staff_client, url)
    assert "satisfaction_survey" not in form and form["satisfaction_delay_minutes"] == "60"

    response = staff_client.post(
        url, browser_form(staff_client, url, satisfaction_survey="on", satisfaction_delay_minutes="30")
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    inbox.refresh_from_db()
    assert (inbox.satisfaction_survey, inbox.satisfaction_delay_minutes) == (True, 30)
    (updated,) = audit("inbox_updated", actor_user=staff)
    assert updated.changes == {
        "satisfaction_survey": {"before": False, "after": True},
        "satisfaction_delay_minutes": {"before": 60, "after": 30},
    }

    # More than 30 days is refused on its field, and nothing changes.
    response = staff_client.post(url, browser_form(staff_client, url, satisfaction_delay_minutes="50000"))
    assert response.status_code == 200
    assert "satisfaction_delay_minutes" in response.context["adminform"].form.errors
    inbox.refresh_from_db()
    assert inbox.satisfaction_delay_minutes == 30


def test_an_inbox_with_tickets_is_not_deleted(staff_client, organization, inbox, ticket):
    spare = factories.make_inbox(organization, name="Spare", prefix="SPA")
    Ticket.objects.filter(pk=ticket.pk).update(inbox=spare)

    response = delete_in_admin(staff_client, spare)

    # Django's delete page already stops at the protected tickets; delete_inbox would too.
    assert "<title>Cannot delete inbox" in response.content.decode()
    assert Inbox.objects.filter(pk=spare.pk).exists()
    assert not audit("inbox_deleted")


def test_the_default_inbox_is_not_deleted_while_the_organization_has_others(
    staff_client, organization, inbox
):
    factories.make_inbox(organization, name="Spare", prefix="SPA")

    response = delete_in_admin(staff_client, inbox)

    assert (
        "Nothing was deleted: The inbox Invoices is the default; make another inbox the default first."
        in messages_of(response)
    )
    assert Inbox.objects.filter(pk=inbox.pk).exists()
    assert not audit("inbox_deleted")


def test_an_unused_inbox_is_deleted_with_its_audit_event(staff_client, staff, organization, inbox):
    spare = factories.make_inbox(organization, name="Spare", prefix="SPA")

    delete_in_admin(staff_client, spare)

    assert not Inbox.objects.filter(pk=spare.pk).exists()
    (event,) = audit("inbox_deleted", organization=organization)
    assert (event.target, event.actor_label) == ("Spare (SPA)", "Ada Admin")


def test_deleting_selected_inboxes_with_one_refused_deletes_none(staff_client, organization, inbox):
    spare = factories.make_inbox(organization, name="Spare", prefix="SPA")

    response = delete_selected(staff_client, Inbox, [spare, inbox])

    assert any("make another inbox the default first" in text for text in messages_of(response))
    assert Inbox.objects.filter(organization=organization).count() == 2
    assert not audit("inbox_deleted")


def test_legacy_saved_replies_are_only_shown_and_deleted_through_the_service(
    staff_client, staff, organization
):
    # Macros replaced them (the automation app): nothing adds or changes one any more.
    reply = services.create_saved_reply(
        organization=organization, actor=Actor.agent(staff), title="Refund", body="Hello."
    )
    assert staff_client.get(admin_url(SavedReply, "add")).status_code == 403
    assert staff_client.get(admin_url(SavedReply, "change", reply.pk)).status_code == 200  # view only

    delete_selected(staff_client, SavedReply, [reply])

    assert not SavedReply.objects.exists()
    assert [e.target for e in audit("saved_reply_deleted", actor_user=staff)] == ["Refund"]


@pytest.mark.parametrize("model", [Ticket, Customer], ids=lambda m: m.__name__)
def test_tickets_and_customers_are_not_deleted_in_admin(staff_client, thread, model):
    instance = model.objects.first()

    response = staff_client.post(admin_url(model, "delete", instance.pk), {"post": "yes"})

    assert response.status_code == 403
    assert model.objects.filter(pk=instance.pk).exists()


def test_deleting_a_tag_in_admin_takes_it_off_its_tickets_and_is_audited(staff_client, staff, inbox):
    ticket = factories.make_ticket(inbox, tags=["refund"])
    tag = ticket.tags.get()

    delete_in_admin(staff_client, tag)

    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert list(ticket.tags.all()) == []
    (event,) = audit(AuditEvent.Action.TAG_DELETED, organization=inbox.organization)
    assert (event.actor_user, event.target, event.changes) == (staff, "refund", {"tickets": 1})


def test_renaming_a_tag_in_admin_is_audited_with_the_old_and_new_name(staff_client, staff, inbox):
    tag, _ = services.get_or_create_tag(organization=inbox.organization, name="refund")
    url = admin_url(Tag, "change", tag.pk)

    staff_client.post(url, browser_form(staff_client, url, name="refunds", _save="Save"))

    tag.refresh_from_db()
    assert tag.name == "refunds"
    (event,) = audit(AuditEvent.Action.TAG_RENAMED)
    assert event.changes == {"name": {"before": "refund", "after": "refunds"}}


def test_forgetting_idempotency_keys_in_admin_lets_the_client_reuse_them_and_is_audited(
    staff_client, staff, inbox
):
    ticket, _ = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email="jane@example.test"),
        subject="Refund please",
        message="Order 12",
        actor=Actor.system("Backend"),
        idempotency_key="order-12",
    )
    key = IdempotencyKey.objects.get()

    delete_selected(staff_client, IdempotencyKey, [key])

    assert not IdempotencyKey.objects.exists()
    (event,) = audit(AuditEvent.Action.IDEMPOTENCY_KEYS_FORGOTTEN, organization=inbox.organization)
    assert event.actor_user == staff
    assert event.changes == {"keys": ["system:order-12"]}
    again, created = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email="jane@example.test"),
        subject="Another subject",
        message="Order 12",
        actor=Actor.system("Backend"),
        idempotency_key="order-12",
    )
    assert created and again.pk != ticket.pk


def test_the_change_form_keeps_a_tag_someone_else_added_while_it_was_open(staff_client, inbox, agent):
    ticket = factories.make_ticket(inbox, tags=["billing"])
    url = admin_url(Ticket, "change", ticket.pk)
    shown = browser_form(staff_client, url, priority="high", tag_names="billing, refund", _save="Save")
    services.update_ticket(ticket=ticket, add_tags=["vip"], actor=Actor.agent(agent))

    response = staff_client.post(url, shown)

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert sorted(tag.name for tag in ticket.tags.all()) == ["billing", "refund", "vip"]


def test_an_assignee_chosen_when_adding_a_ticket_replaces_auto_assignment_and_is_mailed_once(
    staff_client, organization, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    inbox = factories.make_inbox(
        organization, prefix="AUTO", auto_assignment=Inbox.AutoAssignment.LEAST_LOADED_N1
    )
    factories.make_agent(organization, email="first-in-line@acme.test")
    chosen = factories.make_agent(organization, email="chosen@acme.test", is_available=False)
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(email="jane@example.test")
    )
    url = admin_url(Ticket, "add")
    form = browser_form(
        staff_client,
        url,
        inbox=str(inbox.pk),
        customer=str(customer.pk),
        subject="Refund please",
        message="Order 12",
        assignee=str(chosen.pk),
        _save="Save",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, form)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    ticket = Ticket.objects.get(inbox=inbox)
    assert ticket.assignee == chosen
    assigned = Delivery.objects.filter(ticket=ticket, kind=Delivery.Kind.ASSIGNED)
    assert list(assigned.values_list("recipient", flat=True)) == ["chosen@acme.test"]


@pytest.mark.django_db
def test_the_ticket_page_names_its_messages_by_reference_not_database_id(staff_client, thread):
    """Each message's heading in the ticket's inline read "Reply on 58 by Jane"."""
    page = staff_client.get(admin_url(Ticket, "change", thread.pk)).content.decode()

    labels = re.findall(r'<span class="inline_label">([^<]*)</span>', page)
    message_labels = [label for label in labels if " by " in label]
    assert message_labels, labels
    assert all(f" on {thread.reference} by " in label for label in message_labels), message_labels
