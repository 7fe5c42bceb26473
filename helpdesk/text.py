"""Text that the database cannot store: NUL (PostgreSQL refuses it) and lone surrogates
(no encoding can write them). Every face and service refuses such text with these words."""

import re

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def forbidden_character_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    match = _FORBIDDEN.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Null characters are not allowed."
    return f"Surrogate characters are not allowed: U+{ord(match.group()):04X}."
