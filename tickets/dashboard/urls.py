from django.urls import include, path

from . import account, address_verification, customers, notifications, queue, relations, ticket
from .settings_urls import profile_patterns, reports_patterns, settings_patterns

app_name = "dashboard"
urlpatterns = [
    # Queue
    path("", queue.queue, name="queue"),
    path("rows", queue.queue_rows, name="queue_rows"),
    path("bulk", queue.bulk, name="bulk"),
    path("export.csv", queue.queue_csv, name="queue_csv"),
    # Ticket
    path("tickets/new", ticket.new_ticket, name="new_ticket"),
    path("tickets/new/email", ticket.new_conversation, name="new_conversation"),
    path("tickets/<str:public_id>/", ticket.ticket_page, name="ticket"),
    path("tickets/<str:public_id>/timeline", ticket.timeline, name="ticket_timeline"),
    path("tickets/<str:public_id>/messages", ticket.add_message, name="add_message"),
    path("tickets/<str:public_id>/update", ticket.update, name="update_ticket"),
    path("tickets/<str:public_id>/draft", ticket.save_draft, name="save_draft"),
    path("tickets/<str:public_id>/follow", ticket.follow, name="follow_ticket"),
    path("tickets/<str:public_id>/take", ticket.take, name="take_ticket"),
    path("tickets/<str:public_id>/rotate-link", ticket.rotate_link, name="rotate_link"),
    path("tickets/<str:public_id>/participants", ticket.add_participant, name="add_participant"),
    path(
        "tickets/<str:public_id>/participants/<int:participant_id>/remove",
        ticket.remove_participant,
        name="remove_participant",
    ),
    path("tickets/<str:public_id>/merge", relations.merge, name="merge_ticket"),
    path("tickets/<str:public_id>/messages/<str:message_id>/split", relations.split, name="split_message"),
    path("tickets/<str:public_id>/links", relations.link, name="link_ticket"),
    path("tickets/<str:public_id>/links/<str:other_id>/remove", relations.unlink, name="unlink_ticket"),
    path("attachments/<str:public_id>", ticket.attachment, name="attachment"),
    # Customer (and their data rights, for owners and admins)
    path("customers/<str:public_id>/", customers.customer_page, name="customer"),
    path("customers/<str:public_id>/export", customers.customer_export, name="customer_export"),
    path("customers/<str:public_id>/erase", customers.customer_erase, name="customer_erase"),
    path("preview", ticket.preview, name="preview"),
    # Notifications (the bell)
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/badge", notifications.bell, name="bell"),
    path("notifications/panel", notifications.panel, name="bell_panel"),
    path("notifications/read", notifications.mark_read, name="mark_read"),
    path(
        "notifications/<int:notification_id>/open",
        notifications.open_notification,
        name="open_notification",
    ),
    # The agent's own switches
    path("availability", account.availability, name="availability"),
    path("organization", account.switch_organization, name="switch_organization"),
    # The link mailed to a new support address (public: the mailbox's reader confirms it)
    path("verify-address/<str:token>/", address_verification.verify_address, name="verify-inbox-address"),
    # Settings (owners and admins), the agent's profile, reports
    path("settings/", include(settings_patterns)),
    path("profile/", include(profile_patterns)),
    path("reports/", include(reports_patterns)),
]
