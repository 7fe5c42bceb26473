"""The one JSON parser of every JSON face: the native API, the customer API, each dialect.

It is where a JSON body is read, so it is where a body is refused before it can hurt:

- **Size.** At most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes are read; more is a 413.
  DRF's own parser streams the body and never checks the limit, and this is the one
  check (a ``Content-Length`` that lies cannot get past it: the body is read, not trusted).
- **Nesting.** Python's ``json`` decodes nested arrays and objects recursively: about a
  thousand levels raise ``RecursionError`` (a 500), and a few hundred are enough for any
  recursive walk after it. The depth is measured first, without recursion, on the text
  with its strings removed; deeper than ``MAX_JSON_DEPTH`` is a 400.
- **Text that cannot be stored.** PostgreSQL refuses NUL in text and JSON columns, and a
  lone UTF-16 surrogate cannot be encoded as UTF-8 on the way out; both used to surface
  as a 500 from the database or the renderer. Refusing them here covers every field of
  every serializer — metadata keys and values included — with a 400.

Every refusal is an exception that ``helpdesk/problems.py`` turns into the face's shape.
"""

import re
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.utils import json

from .text import forbidden_character_problem

# Far deeper than any documented body (metadata itself may nest 3 levels), far shallower
# than anything that strains a recursive walk.
MAX_JSON_DEPTH = 32

# A string, or an unterminated one up to the end: the match never fails, so it never
# backtracks (a closing quote that must be found is quadratic on '"\\"\\"\\"...').
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
# +1 for an opening bracket, -1 for a closing one, by byte value.
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = _DEPTH_STEP[ord("{")] = 1
_DEPTH_STEP[ord("]")] = _DEPTH_STEP[ord("}")] = -1


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text, without recursion or parsing.

    Brackets inside strings do not count; the running sum over the remaining brackets is
    computed in C (``accumulate``), so a 1 MiB body takes milliseconds.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def find_forbidden_character(value, path: str = "") -> tuple[str, str] | None:
    """The first ``(field path, problem)`` in a parsed JSON document, or None.

    Depth-first in document order, with a stack of its own rather than recursion.
    """
    pending = [(path, value)]
    while pending:
        name, item = pending.pop()
        if isinstance(item, str):
            problem = forbidden_character_problem(item)
            if problem:
                return (name, problem)
        elif isinstance(item, dict):
            for key in item:
                problem = forbidden_character_problem(str(key))
                if problem:
                    # Name the key by its parent: the key itself is not printable safely.
                    return (name or "request", f"A key contains forbidden characters. {problem}")
            pending.extend(
                reversed([(f"{name}.{key}" if name else str(key), child) for key, child in item.items()])
            )
        elif isinstance(item, list):
            pending.extend(reversed([(f"{name}[{index}]", child) for index, child in enumerate(item)]))
    return None


class StrictJSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded in size and depth, refusing text that cannot be stored."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig(f"The request body is larger than the limit of {limit} bytes.")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if nesting_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        found = find_forbidden_character(data)
        if found is not None:
            field, problem = found
            raise ValidationError({field: [problem]})
        return data
