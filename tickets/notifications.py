"""What the outside world hears about a change: called by services after commit.

Each function receives ids (the transaction has committed, so rows are read fresh) and
hands the work to background tasks; email delivery lives in tickets/mail/.
"""


def ticket_created(ticket_id: int) -> None:
    """A new ticket: support address, assignee, confirmation to the customer."""


def message_added(message_id: int) -> None:
    """A reply or a note: replies are mailed to the other side; notes never leave."""


def status_changed(ticket_id: int, old_status: str, new_status: str) -> None:
    """Resolved or closed: the customer is told."""


def ticket_assigned(ticket_id: int) -> None:
    """The new assignee is told by email."""


def portal_link_requested(customer_id: int, link: str) -> None:
    """A customer asked to sign in to the portal: mail them the sign-in link."""
