"""Form fields shared by the faces that take a message typed in a browser (dashboard, portal)."""

from django import forms

from tickets import limits


class MessageBodyField(forms.CharField):
    """Markdown typed in a textarea, up to ``MESSAGE_MAX_LENGTH`` characters counted as the
    page counts them (a line break is one character, not the CR LF the browser sends)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", limits.MESSAGE_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return limits.normalize_line_breaks(value) if isinstance(value, str) else value
