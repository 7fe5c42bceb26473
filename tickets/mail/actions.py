"""Staff actions on deliveries, for tickets/admin/history.py to list on the Delivery admin:

from tickets.mail.actions import retry_deliveries_action
actions = [retry_deliveries_action]
"""

from django.contrib import admin, messages

from .outbound import retry_deliveries


@admin.action(description="Send the selected failed deliveries again")
def retry_deliveries_action(modeladmin, request, queryset):
    count = retry_deliveries(queryset)
    if count:
        modeladmin.message_user(request, f"Queued {count} deliver{'y' if count == 1 else 'ies'} again.")
    else:
        modeladmin.message_user(
            request, "None of the selected deliveries had failed or was stuck.", level=messages.WARNING
        )
