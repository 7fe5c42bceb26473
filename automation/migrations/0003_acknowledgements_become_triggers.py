"""The acknowledgement ("We received your request") that every new ticket used to send
becomes triggers: each existing organization gets the default ones, one per channel, on
for the support form, email, the API and agents, off for SupportDesk (its document
promises mail to the agent only). The definitions are frozen here as they were when the
mail moved; ``automation.services.DEFAULT_TRIGGERS`` makes them for new organizations.
Run again, it adds no second copy; reversed, it removes them."""

import secrets

from django.db import migrations


def _channel_is(channel):
    return {"field": "channel", "op": "is", "value": channel}


ACTIONS = [{"type": "email_customer", "template": "acknowledgement"}]
POSITION = 1000
DEFAULTS = (
    ("Acknowledge support form requests", {"all": [_channel_is("web")], "any": []}, True),
    ("Acknowledge email requests", {"all": [_channel_is("email")], "any": []}, True),
    (
        "Acknowledge API requests",
        {"all": [_channel_is("api"), {"field": "dialect", "op": "is_not", "value": "supportdesk"}], "any": []},
        True,
    ),
    ("Acknowledge tickets agents open", {"all": [_channel_is("agent")], "any": []}, True),
    (
        "Acknowledge SupportDesk requests",
        {"all": [_channel_is("api"), {"field": "dialect", "op": "is", "value": "supportdesk"}], "any": []},
        False,
    ),
)


def add_acknowledgement_triggers(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    Trigger = apps.get_model("automation", "Trigger")
    for organization in Organization.objects.order_by("pk").iterator():
        existing = set(Trigger.objects.filter(organization=organization).values_list("name", flat=True))
        made = Trigger.objects.bulk_create(
            [
                Trigger(
                    organization=organization,
                    name=name,
                    event="ticket.created",
                    conditions=conditions,
                    actions=ACTIONS,
                    active=active,
                    position=POSITION + index,
                )
                for index, (name, conditions, active) in enumerate(DEFAULTS)
                if name not in existing
            ]
        )
        if made:
            # A new version of its rules: no process keeps the compiled ones of before.
            Organization.objects.filter(pk=organization.pk).update(automation_version=secrets.randbits(62) + 1)


def remove_acknowledgement_triggers(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    Trigger = apps.get_model("automation", "Trigger")
    Trigger.objects.filter(
        name__in=[name for name, _, _ in DEFAULTS], event="ticket.created", actions=ACTIONS
    ).delete()
    for organization_id in Organization.objects.values_list("pk", flat=True):
        Organization.objects.filter(pk=organization_id).update(automation_version=secrets.randbits(62) + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_add_organization_automation_version"),
        ("automation", "0002_saved_replies_become_macros"),
        ("tickets", "0033_add_ticket_dialect"),
    ]

    operations = [migrations.RunPython(add_acknowledgement_triggers, remove_acknowledgement_triggers)]
