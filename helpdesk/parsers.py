"""Request parsers shared by every DRF face (native API, dialects, customer API).

PostgreSQL refuses NUL in text and JSON columns, and a lone UTF-16 surrogate cannot be
encoded as UTF-8 on the way out; both used to surface as a 500 from the database or the
renderer. Refusing them once, at parse time, covers every field of every serializer —
metadata keys and values included — with a 400 in the face's error shape.
"""

import re

from rest_framework import parsers
from rest_framework.exceptions import ValidationError

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def forbidden_character_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    match = _FORBIDDEN.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Null characters are not allowed."
    return f"Surrogate characters are not allowed: U+{ord(match.group()):04X}."


def find_forbidden_character(value, path: str = "") -> tuple[str, str] | None:
    """The first ``(field path, problem)`` in a parsed JSON document, or None."""
    if isinstance(value, str):
        problem = forbidden_character_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            problem = forbidden_character_problem(str(key))
            if problem:
                # Name the key by its parent: the key itself is not printable safely.
                return (path or "request", f"A key contains forbidden characters. {problem}")
            found = find_forbidden_character(item, name)
            if found:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_forbidden_character(item, f"{path}[{index}]" if path else f"[{index}]")
            if found:
                return found
    return None


class StrictJSONParser(parsers.JSONParser):
    """DRF's JSON parser that refuses NUL characters and lone surrogates anywhere."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        found = find_forbidden_character(data)
        if found is not None:
            field, problem = found
            raise ValidationError({field: [problem]})
        return data
