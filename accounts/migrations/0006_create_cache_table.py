"""Creates the database cache's table, so that `migrate` alone upgrades an install.

Without REDIS_URL the cache is Django's database cache (shared by every process); its
table is not a model, so `migrate` would not create it. `createcachetable` is idempotent
and only acts on database caches, so with Redis configured this does nothing.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_add_rate_counter")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
