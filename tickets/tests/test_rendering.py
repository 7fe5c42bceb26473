"""Message bodies as HTML: plain prose takes a short way, and it must give what Markdown gives."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets import rendering
from tickets.rendering import render_markdown


def through_markdown(text: str) -> str:
    """What render_markdown gives with the prose shortcut switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rendering, "_PLAIN_PROSE", rendering.re.compile(r"(?!)"))
        return render_markdown(text)


PUNCTUATION = " .,!?'\"():;/@%$-"
words = st.text(alphabet=st.characters(categories=["L", "N"]) | st.sampled_from(PUNCTUATION), max_size=30)
lines = st.builds(lambda first, rest: first + rest, st.characters(categories=["L"]), words) | st.just("")
prose = st.lists(lines, max_size=8).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(prose)
def test_prose_renders_as_markdown_renders_it(text):
    assert render_markdown(text) == through_markdown(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(categories=["L", "N", "P", "S", "Z"]) | st.sampled_from("\n\t#*_>`[]<&|~=+"),
        max_size=80,
    )
)
def test_any_text_renders_as_markdown_renders_it(text):
    assert render_markdown(text) == through_markdown(text)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "Hello, the invoice fails.\nSince this morning!",
            "<p>Hello, the invoice fails.\nSince this morning!</p>",
        ),
        ("First paragraph.\n\n\nSecond one (short).", "<p>First paragraph.</p>\n<p>Second one (short).</p>"),
        ("Grüße aus Köln: 50% off, $10 @ noon", "<p>Grüße aus Köln: 50% off, $10 @ noon</p>"),
        ("", ""),
    ],
)
def test_prose_is_wrapped_in_paragraphs(text, html):
    assert render_markdown(text) == html


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Steps:\n\n- open the app\n- tap Export", "<li>open the app</li>"),
        ("1. one\n2. two", "<ol>"),
        ("Title\n=====", "<h1>Title</h1>"),
        ("Call me **now**", "<strong>now</strong>"),
        ("    indented code", "<pre><code>indented code"),
        ("Line one  \nline two", "<br"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
    ],
)
def test_markdown_still_renders_where_prose_ends(text, fragment):
    assert fragment in render_markdown(text)
