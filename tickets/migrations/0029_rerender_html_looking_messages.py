"""Messages whose text looks like HTML were rendered with that text stripped; render them
again so it is shown as typed (tickets/rendering.py). Only bodies holding a "<" can
differ; they are read in batches of ids."""

from django.db import migrations

BATCH = 2_000


def rerender(apps, schema_editor):
    from tickets.rendering import render_markdown

    Message = apps.get_model("tickets", "Message")
    last_id = 0
    while True:
        rows = list(
            Message.objects.filter(pk__gt=last_id, body__contains="<")
            .order_by("pk")
            .values_list("pk", "body", "body_html")[:BATCH]
        )
        if not rows:
            break
        for pk, body, stored in rows:
            html = render_markdown(body)
            if html != stored:
                Message.objects.filter(pk=pk).update(body_html=html)
        last_id = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("tickets", "0028_add_draft")]

    # Nothing to undo: the earlier rendering only lost text.
    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
