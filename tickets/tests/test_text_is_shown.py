"""Text that looks like HTML is shown as typed, on every page and in both email parts."""

import html
from importlib import import_module

import pytest
from django.apps import apps as global_apps
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.models import Delivery, Message
from tickets.rendering import render_markdown
from tickets.tests import factories

pytestmark = pytest.mark.django_db

CUSTOMER_TEXT = "My log says <script>alert(1)</script> then stops."
AGENT_TEXT = "Type <b>bold</b> like this, and <img src=x onerror=alert(1)> is an image."


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<div>\nblock\n</div>", "&lt;div&gt;"),
        ("a < b and c > d", "a &lt; b and c &gt; d"),
    ],
)
def test_html_looking_text_is_escaped_not_stripped(text, shown):
    assert shown in render_markdown(text)


def test_markdown_and_safety_are_unchanged():
    assert render_markdown("**bold** <https://example.com>") == (
        '<p><strong>bold</strong> <a href="https://example.com" rel="noopener noreferrer nofollow">'
        "https://example.com</a></p>"
    )
    assert "javascript" not in render_markdown("[x](javascript:alert(1))")


@pytest.fixture
def conversation(inbox, agent, settings, django_capture_on_commit_callbacks):
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    ticket = factories.make_ticket(inbox, message=CUSTOMER_TEXT)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, body=AGENT_TEXT, actor=Actor.agent(agent))
    return ticket


def test_the_dashboard_shows_what_was_typed(agent_client, conversation):
    page = agent_client.get(reverse("dashboard:ticket", args=[conversation.public_id])).content.decode()
    assert html.escape(CUSTOMER_TEXT, quote=False) in page
    assert html.escape(AGENT_TEXT, quote=False) in page
    assert "<script>alert(1)</script>" not in page


def test_the_private_page_shows_what_was_typed(client, conversation):
    page = client.get(conversation.private_path).content.decode()
    assert html.escape(CUSTOMER_TEXT, quote=False) in page
    assert html.escape(AGENT_TEXT, quote=False) in page


def test_both_parts_of_the_email_say_the_same(conversation):
    delivery = Delivery.objects.filter(kind=Delivery.Kind.AGENT_REPLY).get()
    assert AGENT_TEXT in delivery.body_text
    assert html.escape(AGENT_TEXT, quote=False) in delivery.body_html
    assert "<b>bold</b>" not in delivery.body_html


def test_the_migration_renders_stored_messages_again(conversation):
    message = conversation.messages.get(author_type="customer")
    Message.objects.filter(pk=message.pk).update(body_html="<p>My log says  then stops.</p>")

    import_module("tickets.migrations.0029_rerender_html_looking_messages").rerender(global_apps, None)

    message.refresh_from_db()
    assert message.body_html == render_markdown(CUSTOMER_TEXT)
