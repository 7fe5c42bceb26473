"""Who spoke last on a ticket (schema; 0018 fills it from the messages, 0019 indexes it)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0011_merge_audit_actions'),
        ('tickets', '0023_pending_and_on_hold_statuses'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='customer_waiting_since',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='last_agent_reply_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='last_customer_message_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
