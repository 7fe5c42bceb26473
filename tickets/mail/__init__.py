"""Email, both ways.

- ``outbound``: render a notification into a queued ``Delivery`` and send it (called by
  ``tickets/notifications.py`` and the ``send_deliveries`` task in ``tickets/tasks.py``);
  ``tickets.tasks.retry_deliveries`` re-sends failed ones.
- ``inbound``: anymail's inbound signal → threading → a service call.
- ``addresses``: reply addresses, Message-IDs, header-safe values.
- ``quotes``: what is kept of a reply.
- ``checks``: deploy checks;
  ``backends``: the mailer behind ``SUPPORT_EMAIL_SENDER=none``.

docs/deploy.md explains the settings and the provider set-up.
"""
