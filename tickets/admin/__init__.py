"""Django admin for the ticket domain.

Staff may see everything here, but they change tickets the way every other face does:
through ``tickets/services.py``, acting as themselves (``Actor.agent(request.user)``), so
each change leaves a TicketEvent and triggers the same notifications. Saving the ticket
form, adding a message in its inline, and every action call a service; nothing
saves a ticket or a message directly. Messages and events are history: shown, never edited.

One module per group of models: ``inboxes`` (inboxes, tags, saved replies), ``customers``,
``tickets`` (forms, thread inline, actions) and ``history`` (read-only records); what
they share is in ``common``.
"""

# Importing the modules registers their ModelAdmins with the admin site.
from . import custom_fields, customers, history, inboxes, relations, tickets  # noqa: F401
