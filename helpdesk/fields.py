"""Input fields every JSON face shares: text is text.

A number or a boolean where text belongs is a 400 naming the field, never a silent
conversion (DRF's ``CharField`` turns ``12345`` into ``"12345"``). Text that cannot be
stored (NUL, lone surrogates) never reaches a field: ``StrictJSONParser`` refuses it.
"""

from rest_framework import serializers

from tickets import limits


class StrictCharField(serializers.CharField):
    """A string and only a string."""

    default_error_messages = {"not_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return super().to_internal_value(data)


class StrictMessageField(StrictCharField):
    """A message body: a string whose line breaks are one LF each, counted that way.

    The length bounds count what the services count and store (``validate_body``): a body
    sent with CR LF line breaks is measured as the same text sent with LF, so a face's own
    ``max_length`` never refuses what the service would accept.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", limits.MESSAGE_MIN_LENGTH)
        kwargs.setdefault("max_length", limits.MESSAGE_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return limits.normalize_line_breaks(super().to_internal_value(data))


class StrictEmailField(serializers.EmailField):
    """An email address, given as a string, kept in lower case."""

    default_error_messages = {"not_string": "Must be a string.", "invalid": "Invalid email format."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return super().to_internal_value(data).lower()
