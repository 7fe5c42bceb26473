"""Every saved reply becomes a shared macro with no actions: its title the macro's name,
its body the reply, its creation time kept. Run again, it adds no second copy; reversed,
it removes only the macros it made (the saved replies themselves are untouched)."""

from django.db import migrations


def saved_replies_to_macros(apps, schema_editor):
    SavedReply = apps.get_model("tickets", "SavedReply")
    Macro = apps.get_model("automation", "Macro")
    made = []
    for saved_reply in SavedReply.objects.order_by("pk").iterator():
        exists = Macro.objects.filter(
            organization_id=saved_reply.organization_id,
            owner=None,
            name=saved_reply.title,
            reply=saved_reply.body,
        ).exists()
        if not exists:
            made.append(
                Macro(
                    organization_id=saved_reply.organization_id,
                    owner=None,
                    name=saved_reply.title,
                    reply=saved_reply.body,
                    actions=[],
                    created_at=saved_reply.created_at,
                    updated_at=saved_reply.created_at,
                )
            )
    Macro.objects.bulk_create(made, batch_size=500)


def remove_copied_macros(apps, schema_editor):
    SavedReply = apps.get_model("tickets", "SavedReply")
    Macro = apps.get_model("automation", "Macro")
    for saved_reply in SavedReply.objects.order_by("pk").iterator():
        Macro.objects.filter(
            organization_id=saved_reply.organization_id,
            owner=None,
            name=saved_reply.title,
            reply=saved_reply.body,
            actions=[],
            usage_count=0,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_add_triggers_and_macros"),
        ("tickets", "0020_delivery_automatic_kind"),
    ]

    operations = [migrations.RunPython(saved_replies_to_macros, remove_copied_macros)]
