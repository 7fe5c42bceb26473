import secrets

from django.db import migrations, models


def give_every_organization_a_version(apps, schema_editor):
    # An existing organization's inboxes get a version at once, so its creates take the
    # inbox from the process's copy from the first one after the upgrade.
    Organization = apps.get_model("accounts", "Organization")
    for pk in Organization.objects.values_list("pk", flat=True).iterator():
        Organization.objects.filter(pk=pk).update(inboxes_version=secrets.randbits(62) + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_add_organization_automation_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="inboxes_version",
            field=models.PositiveBigIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunPython(give_every_organization_a_version, migrations.RunPython.noop, elidable=True),
    ]
