"""Who hears each domain event: the one place where subscribers are registered.

Called once at start-up (``TicketsConfig.ready``). Webhooks, SLA clocks, triggers and
live updates subscribe here too, each beside the notifications.
"""

from . import events, live, notifications, tasks


def register() -> None:
    events.subscribe(events.TicketCreated, notifications.on_ticket_created)
    events.subscribe(events.MessageCreated, notifications.on_message_created)
    events.subscribe(events.TicketStatusChanged, notifications.on_status_changed)
    events.subscribe(events.TicketAssigned, notifications.on_ticket_assigned)
    events.subscribe(events.SlaWarning, notifications.on_sla_event)
    events.subscribe(events.SlaBreached, notifications.on_sla_event)
    events.subscribe(events.InboxAddressClaimed, notifications.on_inbox_address_claimed)
    events.subscribe(events.TicketStatusChanged, tasks.schedule_auto_resolve)
    # Live updates: after commit, the versions the dashboard's polls compare with.
    for event_type in live.EVENT_TYPES:
        events.subscribe(event_type, live.on_domain_event)
