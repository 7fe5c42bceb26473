# One verified owner per support address across the installation (after 0010 verified
# exactly one inbox per existing address).

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0010_verify_existing_support_addresses'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='inbox',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('support_email'), condition=models.Q(('support_email_verified_at__isnull', False), models.Q(('support_email', ''), _negated=True)), name='inbox_unique_verified_support_email'),
        ),
    ]
