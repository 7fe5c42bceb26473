"""JSON typed into an HTML form (the dashboard's automation settings, the admin's JSON
fields), read under the same depth bound as a JSON body (``helpdesk/parsers.py``).

Python's ``json`` decodes nesting recursively, so text nested some thousands of levels
deep raised ``RecursionError`` from a form's ``clean``: a 500 page instead of the field's
error. The depth is measured first, without recursion.
"""

import json

from django import forms

from .parsers import MAX_JSON_DEPTH, nesting_depth


class BoundedJSONDecoder(json.JSONDecoder):
    """``json.JSONDecoder`` refusing text nested deeper than ``MAX_JSON_DEPTH`` with the
    ``JSONDecodeError`` every caller already turns into "not valid JSON"."""

    def decode(self, s, *args, **kwargs):
        if nesting_depth(s) > MAX_JSON_DEPTH:
            raise json.JSONDecodeError(f"Nested deeper than {MAX_JSON_DEPTH} levels", s, 0)
        return super().decode(s, *args, **kwargs)


class JSONField(forms.JSONField):
    """Django's JSON form field, reading with ``BoundedJSONDecoder``."""

    def __init__(self, *, decoder=None, **kwargs):
        # A model's JSONField passes its own decoder, None unless it names one.
        super().__init__(decoder=decoder or BoundedJSONDecoder, **kwargs)
