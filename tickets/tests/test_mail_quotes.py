"""What is kept of a reply: the new text, without quoted history or signature."""

import pytest

from tickets.mail.quotes import REPLY_MARKER, html_to_text, strip_quoted


@pytest.mark.parametrize(
    "text",
    [
        "Thanks!\n\nOn Mon, 23 Nov 2026 at 10:00, Acme <help@acme.test> wrote:\n> old text",
        "Thanks!\n\nOn Mon, 23 Nov 2026 at 10:00, Acme Support <help@acme.test>\nwrote:\n\n> old text",
        "Thanks!\n\n-----Original Message-----\nFrom: Acme\nold text",
        "Thanks!\n\nFrom: Acme Support <help@acme.test>\nSent: Monday, 23 November 2026 10:00\n"
        "To: Jane\nSubject: RE: [INV-1] Refund\n\nold text",
        "Thanks!\n\n________________________________\nFrom: Acme\nold text",
        "Thanks!\n\n> old text\n> more old text\n>\n> and more",
        f"Thanks!\n\n{REPLY_MARKER}\n\nold text",
        "Thanks!\n\nLe lun. 23 nov. 2026 à 10:00, Acme <help@acme.test> a écrit :\n> vieux texte",
        "Thanks!\n\nAm Mo., 23. Nov. 2026 um 10:00 Uhr schrieb Acme <help@acme.test>:\n> alter Text",
        "Thanks!\n\n-- \nJane Doe\nHead of Everything\n+1 555 0100",
        "Thanks!\n\nSent from my iPhone",
        "Thanks!\n\nGet Outlook for Android\n\nOn Monday Acme wrote:\n> old",
    ],
)
def test_quoted_history_and_signatures_are_cut(text):
    assert strip_quoted(text) == "Thanks!"


def test_quotes_inside_the_new_text_are_kept():
    text = "About your answer:\n\n> restart the router\n\nI did, twice.\n\nOn Monday Acme wrote:\n> old"

    assert strip_quoted(text) == "About your answer:\n\n> restart the router\n\nI did, twice."


def test_a_reply_that_is_all_quote_keeps_everything_rather_than_nothing():
    assert strip_quoted("> only a quote") == "> only a quote"


def test_html_only_mail_becomes_text_without_the_quoted_blockquote():
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<div>Hello <b>team</b>,<br>the invoice is wrong.</div>"
        '<div class="gmail_quote"><div>On Monday Acme wrote:</div>'
        "<blockquote><div>We received <i>your</i> request</div></blockquote></div>"
        "</body></html>"
    )

    assert html_to_text(html) == "Hello team,\nthe invoice is wrong."
