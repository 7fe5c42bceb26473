from django.db import models
from ulid import ULID


def new_ulid() -> str:
    return str(ULID())


class PublicIdField(models.CharField):
    """A ULID that is shown outside (URLs, API ids); the integer key stays internal."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 26)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", new_ulid)
        super().__init__(*args, **kwargs)
