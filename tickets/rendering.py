"""Markdown in, safe HTML out: every message body shown anywhere goes through here."""

import threading

import markdown
import nh3

ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


_local = threading.local()


def _converter() -> markdown.Markdown:
    # Building a Markdown instance costs twice the conversion of a short message; one per
    # thread (instances are not thread-safe) is reset and reused.
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"])
    return converter


def render_markdown(text: str) -> str:
    html = _converter().reset().convert(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
