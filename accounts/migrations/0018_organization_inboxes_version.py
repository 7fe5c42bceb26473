import secrets

from django.db import migrations, models


def give_every_organization_a_version(apps, schema_editor):
    # Existing organizations' inboxes get a version at once, so their creates take the inbox
    # from the process's copy from the first one after the upgrade. One number for all will
    # do: the copies are kept by organization and version.
    Organization = apps.get_model("accounts", "Organization")
    Organization.objects.update(inboxes_version=secrets.randbits(62) + 1)


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
