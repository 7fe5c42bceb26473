"""Domain errors raised by tickets.services; each face translates them once, to its own shape."""


class HelpdeskError(Exception):
    """Base of every refusal the domain can give. ``code`` is stable for clients."""

    code = "helpdesk_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(HelpdeskError):
    """A value the domain refuses; ``field`` names it in the caller's vocabulary."""

    code = "invalid_input"

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class NotFound(HelpdeskError):
    code = "not_found"


class DailyLimitReached(HelpdeskError):
    code = "daily_limit_reached"

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class QuotaReached(HelpdeskError):
    code = "plan_limit_reached"

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InvalidTransition(HelpdeskError):
    code = "invalid_transition"


class MergeConflict(InvalidTransition):
    """A merge the tickets' state forbids: the source is merged already, the target is
    merged or closed, or the merge would make a loop."""

    code = "merge_conflict"


class CustomerErased(HelpdeskError):
    """The customer was erased: their record takes no details and no credential again."""

    code = "customer_erased"


class IdempotencyConflict(HelpdeskError):
    code = "idempotency_conflict"


class PermissionDenied(HelpdeskError):
    code = "permission_denied"


class NewMessagesSinceSeen(HelpdeskError):
    """Someone else wrote on the ticket after the sender's page was shown: the sender reads
    ``messages`` first, then sends anyway (naming the newest as seen) or edits."""

    code = "new_messages"

    def __init__(self, messages: list):
        count = len(messages)
        what = "A new message" if count == 1 else f"{count} new messages"
        super().__init__(
            f"{what} arrived while you were writing. Read it, then send anyway or edit your reply."
        )
        self.messages = messages
