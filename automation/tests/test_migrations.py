"""The data migrations of automation: every saved reply a macro, the acknowledgement
triggers (run with the migration executor on a database at the state before them), and
the notes triggers wrote before their author was kept."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from automation import services
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Message
from tickets.tests import factories

BEFORE = [
    ("automation", "0001_add_triggers_and_macros"),
    ("tickets", "0020_delivery_automatic_kind"),
    # The organizations' columns as they were then (later ones have no database default).
    ("accounts", "0013_automation_audit_actions"),
]
AFTER = [("automation", "0002_saved_replies_become_macros")]


@pytest.mark.django_db(transaction=True)
def test_saved_replies_become_macros_with_no_actions_and_nothing_is_lost():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        Organization = old.get_model("accounts", "Organization")
        SavedReply = old.get_model("tickets", "SavedReply")
        acme = Organization.objects.create(name="Acme", slug="acme-migration")
        globex = Organization.objects.create(name="Globex", slug="globex-migration")
        body = "Hello {{ customer_name }},\n\nyour **refund** is on its way.\n\n— Acme"
        first = SavedReply.objects.create(organization=acme, title="Refund sent", body=body)
        SavedReply.objects.create(organization=acme, title="Password reset", body="Use the link.")
        SavedReply.objects.create(organization=globex, title="Refund sent", body="Globex's own words.")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        Macro = new.get_model("automation", "Macro")
        macros = {(macro.organization_id, macro.name): macro for macro in Macro.objects.all()}
        assert set(macros) == {
            (acme.pk, "Refund sent"),
            (acme.pk, "Password reset"),
            (globex.pk, "Refund sent"),
        }
        refund = macros[(acme.pk, "Refund sent")]
        assert refund.reply == body
        assert refund.actions == []
        assert refund.owner_id is None
        assert refund.created_at == first.created_at
        assert macros[(globex.pk, "Refund sent")].reply == "Globex's own words."
        # Nothing of the saved replies is lost.
        assert new.get_model("tickets", "SavedReply").objects.count() == 3
    finally:
        # Every later migration again, for the tests after this one.
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    # Reversed, only the copies go; forward again, one copy each.
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert old.get_model("automation", "Macro").objects.count() == 0
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Macro.objects.count() == 3


ACKNOWLEDGEMENTS_BEFORE = [
    ("automation", "0002_saved_replies_become_macros"),
    ("accounts", "0017_add_organization_automation_version"),
    ("tickets", "0033_add_ticket_dialect"),
]
ACKNOWLEDGEMENTS_AFTER = [("automation", "0003_acknowledgements_become_triggers")]


@pytest.mark.django_db(transaction=True)
def test_every_existing_organization_gets_the_acknowledgement_triggers_once():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(ACKNOWLEDGEMENTS_BEFORE)
        old = executor.loader.project_state(ACKNOWLEDGEMENTS_BEFORE).apps
        Organization = old.get_model("accounts", "Organization")
        acme = Organization.objects.create(name="Acme", slug="acme-acknowledgements")
        Trigger = old.get_model("automation", "Trigger")
        # A trigger of its own, kept, and one default already made by hand: no second copy.
        Trigger.objects.create(organization=acme, name="Refunds", event="ticket.created", actions=[])
        Trigger.objects.create(
            organization=acme, name="Acknowledge email requests", event="ticket.created", actions=[]
        )

        executor = MigrationExecutor(connection)
        executor.migrate(ACKNOWLEDGEMENTS_AFTER)
        new = executor.loader.project_state(ACKNOWLEDGEMENTS_AFTER).apps
        triggers = {
            trigger.name: trigger
            for trigger in new.get_model("automation", "Trigger").objects.filter(organization_id=acme.pk)
        }
        assert set(triggers) == {
            "Refunds",
            "Acknowledge support form requests",
            "Acknowledge email requests",
            "Acknowledge API requests",
            "Acknowledge tickets agents open",
            "Acknowledge SupportDesk requests",
        }
        assert triggers["Acknowledge SupportDesk requests"].active is False
        assert triggers["Acknowledge support form requests"].actions == [
            {"type": "email_customer", "template": "acknowledgement"}
        ]
        assert new.get_model("accounts", "Organization").objects.get(pk=acme.pk).automation_version

        executor = MigrationExecutor(connection)
        executor.migrate(ACKNOWLEDGEMENTS_BEFORE)
        names = set(Trigger.objects.filter(organization_id=acme.pk).values_list("name", flat=True))
        assert names == {"Refunds", "Acknowledge email requests"}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)


def test_notes_that_triggers_wrote_before_the_upgrade_name_their_trigger(organization, inbox, agent):
    """``tickets`` 0038, run on notes as they were before it: every author label empty."""
    services.create_trigger(
        organization=organization,
        actor=Actor.system("Tests"),
        name="Heads up",
        event="ticket.created",
        conditions={"all": [], "any": []},
        actions=[{"type": "add_note", "value": "Check the order."}],
    )
    ticket = factories.make_ticket(inbox)
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Mine", kind="note")
    Message.objects.update(author_label="")

    import_module("tickets.migrations.0038_backfill_note_author_labels").backfill(apps, None)

    names = {message.body: message.author_name for message in ticket.messages.all()}
    assert names["Check the order."] == "Trigger: Heads up"
    assert names["Mine"] == agent.display_name
    assert Message.objects.get(kind="reply").author_label == ""


UNIQUE_NAMES_BEFORE = [("automation", "0003_acknowledgements_become_triggers")]
UNIQUE_NAMES_AFTER = [("automation", "0005_add_trigger_unique_name")]


@pytest.mark.django_db(transaction=True)
def test_triggers_that_shared_a_name_are_numbered_before_names_become_unique():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(UNIQUE_NAMES_BEFORE)
        old = executor.loader.project_state(UNIQUE_NAMES_BEFORE).apps
        Organization = old.get_model("accounts", "Organization")
        Trigger = old.get_model("automation", "Trigger")
        acme = Organization.objects.create(name="Acme", slug="acme-unique-names", automation_version=7)
        globex = Organization.objects.create(name="Globex", slug="globex-unique-names", automation_version=7)

        def make(organization, name):
            return Trigger.objects.create(
                organization=organization, name=name, event="ticket.created", actions=[]
            )

        first, second, third = (make(acme, "Refunds") for _ in range(3))
        # "Refunds (2)" is taken already: the second copy becomes "Refunds (3)".
        taken = make(acme, "Refunds (2)")
        long = [make(acme, "x" * 100) for _ in range(2)]
        own = make(globex, "Refunds")

        executor = MigrationExecutor(connection)
        executor.migrate(UNIQUE_NAMES_AFTER)
        new = executor.loader.project_state(UNIQUE_NAMES_AFTER).apps
        names = dict(new.get_model("automation", "Trigger").objects.values_list("pk", "name"))
        assert [names[first.pk], names[second.pk], names[third.pk]] == [
            "Refunds",
            "Refunds (3)",
            "Refunds (4)",
        ]
        assert names[taken.pk] == "Refunds (2)"
        assert [names[trigger.pk] for trigger in long] == ["x" * 100, "x" * 96 + " (2)"]
        assert names[own.pk] == "Refunds"
        versions = dict(
            new.get_model("accounts", "Organization").objects.values_list("pk", "automation_version")
        )
        assert versions[acme.pk] != 7  # its compiled rules, with the old names, are not read again
        assert versions[globex.pk] == 7
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
