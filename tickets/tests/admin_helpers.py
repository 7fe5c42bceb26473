"""Helpers shared by the admin tests: forms as a browser posts them, and changelist costs."""

from html.parser import HTMLParser

from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

# A browser's view of an admin form ------------------------------------------------------


class _FormFields(HTMLParser):
    """Collects what a browser would submit from the page's main form."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_values: list[str] = []
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name, value):
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
                return
            self._add(name, attrs.get("value") or "")
        elif tag == "select" and name and "__prefix__" not in name:
            self._select, self._select_values, self._first_option = name, [], None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._select_values.append(value)
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select:
            values = self._select_values or ([self._first_option] if self._first_option else [])
            for value in values:
                self._add(self._select, value)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = self._text[1:] if self._text.startswith("\n") else self._text
            self._add(self._textarea, text)
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def browser_form(client: Client, url: str, **overrides) -> dict:
    """The change form at ``url`` as a browser would post it, with ``overrides`` applied."""
    response = client.get(url)
    assert response.status_code == 200
    opts = response.context["opts"]
    parser = _FormFields(f"{opts.model_name}_form")
    parser.feed(response.content.decode())
    data = {name: values if len(values) > 1 else values[0] for name, values in parser.fields.items()}
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def admin_url(model, action: str = "changelist", *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


# Changelists cost the same at 3 and 30 rows ---------------------------------------------


def changelist_queries(client: Client, url: str) -> tuple[int, int]:
    """How many queries the changelist at ``url`` runs, and how many rows it counts."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.context["cl"].result_count


def assert_changelist_queries_do_not_grow(
    client: Client, url: str, add_rows, django_assert_max_num_queries
) -> tuple[int, int]:
    """The changelist at ``url`` runs no more queries once ``add_rows(27)`` has followed
    ``add_rows(3)`` than it ran after the first three: no query per row. Returns the rows
    it counted at both sizes."""
    add_rows(3)
    queries_for_few, few = changelist_queries(client, url)
    add_rows(27)

    with django_assert_max_num_queries(queries_for_few):
        response = client.get(url)

    assert response.status_code == 200
    return few, response.context["cl"].result_count
