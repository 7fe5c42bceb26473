"""Two triggers of one organization could share a name, and then "Trigger: <name>" on a
ticket's events and notes named either. Before names become unique (0005), every
duplicate but the oldest gets a number: "Refunds", "Refunds (2)", "Refunds (3)", each a
name no other trigger of the organization has. Reversed, the names stay as they are."""

import secrets
from collections import defaultdict

from django.db import migrations
from django.db.models import Count

NAME_MAX_LENGTH = 100


def _free_name(name: str, taken: set[str]) -> str:
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = name[: NAME_MAX_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def rename_duplicates(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    Trigger = apps.get_model("automation", "Trigger")
    duplicated = (
        Trigger.objects.values("organization_id", "name").annotate(count=Count("id")).filter(count__gt=1)
    )
    names_by_organization = defaultdict(set)
    for row in duplicated:
        names_by_organization[row["organization_id"]].add(row["name"])
    for organization_id, names in names_by_organization.items():
        taken = set(Trigger.objects.filter(organization_id=organization_id).values_list("name", flat=True))
        for trigger in Trigger.objects.filter(organization_id=organization_id, name__in=names).order_by("pk"):
            if trigger.name in names:
                # The oldest keeps its name; the ones after it are renamed.
                names.discard(trigger.name)
                continue
            trigger.name = _free_name(trigger.name, taken)
            taken.add(trigger.name)
            trigger.save(update_fields=["name"])
        # A new version of its rules: no process keeps the compiled ones, with the old names.
        Organization.objects.filter(pk=organization_id).update(automation_version=secrets.randbits(62) + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_add_organization_automation_version"),
        ("automation", "0003_acknowledgements_become_triggers"),
    ]

    operations = [migrations.RunPython(rename_duplicates, migrations.RunPython.noop)]
