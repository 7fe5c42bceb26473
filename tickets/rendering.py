"""Markdown in, safe HTML out: every message body shown anywhere goes through here.

HTML typed in a message is text: it is escaped and shown as typed (a customer's pasted
``<script>`` line, an agent's ``<b>bold</b>``), never run and never silently removed; nh3
then guarantees that nothing but Markdown's own tags reaches a page."""

import re
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
        # Text that looks like HTML is shown, never deleted: without these two, Markdown
        # treats "<script>" or "<b>bold</b>" as text like any other and escapes it (so the
        # page shows what the plain-text email shows), instead of passing it to the
        # sanitizer, which would strip it. Autolinks (<https://…>) and entities still work.
        converter.preprocessors.deregister("html_block")
        converter.inlinePatterns.deregister("html")
    return converter


# Prose that Markdown could only wrap in paragraphs: each line starts with a letter and
# ends without a space, and holds nothing but letters, digits, spaces and punctuation
# that no Markdown construct begins with. Most messages are this; converting them costs
# ten times their paragraphs' own wrapping. tests/test_rendering.py checks, on generated
# text, that both ways give the same HTML.
_PROSE_CHARACTERS = r"(?:[^\W_]|[ .,!?'\"():;/@%$-])"
_PROSE_LINE = rf"(?:[^\W\d_](?:{_PROSE_CHARACTERS}*(?:[^\W_]|[.,!?'\"():;/@%$-]))?)?"
_PLAIN_PROSE = re.compile(rf"{_PROSE_LINE}(?:\n{_PROSE_LINE})*")
_BLANK_LINES = re.compile(r"\n{2,}")


def _paragraphs(text: str) -> str:
    return "\n".join(f"<p>{paragraph}</p>" for paragraph in _BLANK_LINES.split(text.strip("\n")) if paragraph)


def render_markdown(text: str) -> str:
    text = text or ""
    if _PLAIN_PROSE.fullmatch(text):
        html = _paragraphs(text)
    else:
        html = _converter().reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
