"""Settings → Macros (which replaced saved replies) and the composer's macro picker: who may
see, make, change and delete which macro, usage counts, and the reply filled in for the
ticket."""

import pytest
from django.test import Client

from accounts.models import AuditEvent
from automation import services
from automation.models import Macro
from tickets.actors import Actor
from tickets.tests import factories

pytestmark = pytest.mark.django_db

LIST = "/desk/automation/macros/"
NEW = "/desk/automation/macros/new/"


def edit_url(macro):
    return f"/desk/automation/macros/{macro.pk}/"


def delete_url(macro):
    return f"/desk/automation/macros/{macro.pk}/delete/"


@pytest.fixture
def shared(organization, owner):
    return services.create_macro(
        organization=organization,
        actor=Actor.agent(owner),
        name="Refund sent",
        reply="Hi {{ customer_name }}, your refund ({{ ticket_reference }}) is on its way.",
        actions=[{"type": "set_status", "value": "pending"}],
        shortcut="r",
    )


@pytest.fixture
def personal_of_agent(organization, agent):
    return services.create_macro(
        organization=organization, actor=Actor.agent(agent), name="My greeting", reply="Hello!", personal=True
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_makes_changes_and_deletes_a_shared_macro_from_the_pages(owner, organization):
    client = signed_in(owner)
    response = client.post(
        NEW,
        {
            "name": "Escalate",
            "reply": "We passed this on, {{ customer_name }}.",
            "actions": '[{"type": "set_priority", "value": "high"}]',
            "shortcut": "e",
        },
    )
    assert response.status_code == 302
    macro = Macro.objects.get(organization=organization, name="Escalate")
    assert (macro.owner, macro.actions, macro.shortcut) == (
        None,
        [{"type": "set_priority", "value": "high"}],
        "e",
    )

    response = client.post(edit_url(macro), {"name": "Escalate to N2", "reply": "Passed on.", "actions": ""})
    assert response.status_code == 302
    macro.refresh_from_db()
    assert (macro.name, macro.reply, macro.actions, macro.shortcut) == (
        "Escalate to N2",
        "Passed on.",
        [],
        "",
    )

    assert client.post(delete_url(macro)).status_code == 302
    assert not Macro.objects.filter(pk=macro.pk).exists()
    actions = set(AuditEvent.objects.filter(target__startswith="Escalate").values_list("action", flat=True))
    assert actions == {"macro_created", "macro_updated", "macro_deleted"}


def test_the_list_shows_shared_and_my_own_macros_with_their_usage(
    agent, shared, personal_of_agent, owner, inbox
):
    services.apply_macro(macro=shared, ticket=factories.make_ticket(inbox), actor=Actor.agent(owner))
    theirs = services.create_macro(
        organization=shared.organization,
        actor=Actor.agent(owner),
        name="Owner's own",
        reply="x",
        personal=True,
    )

    page = signed_in(agent).get(LIST)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Refund sent" in html and "My greeting" in html and theirs.name not in html
    assert "1×" in html and "Shared" in html and "Personal" in html
    # An agent edits their own macro, never the shared one.
    assert f'href="{edit_url(personal_of_agent)}"' in html
    assert f'href="{edit_url(shared)}"' not in html


def test_an_agent_makes_only_personal_macros_and_cannot_touch_shared_ones(agent, shared, organization):
    client = signed_in(agent)
    response = client.post(NEW, {"name": "Mine", "reply": "Thanks!"})
    assert response.status_code == 302
    assert Macro.objects.get(name="Mine").owner == agent

    assert client.get(edit_url(shared)).status_code == 403
    assert client.post(edit_url(shared), {"name": "Hijacked", "reply": "x"}).status_code == 403
    assert client.post(delete_url(shared)).status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Refund sent"


def test_another_agents_personal_macro_and_another_organizations_are_404(
    owner, personal_of_agent, other_organization
):
    foreign = services.create_macro(
        organization=other_organization, actor=Actor.system("Tests"), name="Globex", reply="Nope"
    )
    client = signed_in(owner)
    for macro in (personal_of_agent, foreign):
        assert client.get(edit_url(macro)).status_code == 404
        assert client.post(delete_url(macro)).status_code == 404
    assert Macro.objects.filter(pk__in=[personal_of_agent.pk, foreign.pk]).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "reply": "Hi"}, "This field is required"),
        ({"name": "Broken", "reply": "{% if %}"}, "Template error"),
        ({"name": "Nothing", "reply": ""}, "A macro has a reply, actions, or both"),
        ({"name": "Bad", "reply": "x", "actions": '[{"type": "email_customer"}]'}, "actions[0].type"),
        ({"name": "Bad", "reply": "x", "actions": "{not json"}, "Not valid JSON"),
        ({"name": "Bad", "reply": "x", "shortcut": "%"}, "One letter or digit"),
    ],
)
def test_a_bad_macro_shows_its_error_and_saves_nothing(owner, data, message):
    response = signed_in(owner).post(NEW, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Macro.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(shared):
    for url in (LIST, NEW, edit_url(shared)):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_wrong_methods_are_405(owner, shared):
    client = signed_in(owner)
    assert client.post(LIST).status_code == 405
    assert client.get(delete_url(shared)).status_code == 405


def test_the_list_runs_a_fixed_number_of_queries(owner, organization, django_assert_max_num_queries):
    for number in range(12):
        services.create_macro(
            organization=organization, actor=Actor.agent(owner), name=f"M{number}", reply="x"
        )
    client = signed_in(owner)
    client.get(LIST)
    with django_assert_max_num_queries(8):
        assert client.get(LIST).status_code == 200


def test_the_composer_inserts_a_macros_reply_filled_in_for_the_ticket(
    agent, shared, personal_of_agent, owner, inbox, other_organization
):
    services.create_macro(
        organization=other_organization, actor=Actor.system("Tests"), name="Globex", reply="x"
    )
    services.create_macro(
        organization=shared.organization,
        actor=Actor.agent(owner),
        name="Only actions",
        actions=[{"type": "set_priority", "value": "high"}],
    )
    ticket = factories.make_ticket(inbox, name="Jane Doe")

    html = signed_in(agent).get(f"/desk/tickets/{ticket.public_id}/").content.decode()

    picker = html[html.index("data-reply-macro") : html.index("</select>", html.index("data-reply-macro"))]
    assert f"Hi Jane Doe, your refund ({ticket.reference}) is on its way." in picker
    assert "My greeting (mine)" in picker
    assert "Globex" not in picker and "Only actions" not in picker
    assert "Saved reply" not in html


def test_a_macro_typed_in_the_textarea_counts_each_line_break_once(owner, organization):
    # 4,900 characters on 100 lines: the browser sends CR LF, 5,099 characters in all.
    lines = "\r\n".join(["y" * 49] * 100)
    assert len(lines) > 5000 >= len(lines.replace("\r\n", "\n"))

    response = signed_in(owner).post(NEW, {"name": "Long", "reply": lines, "actions": ""})

    assert response.status_code == 302
    assert Macro.objects.get(organization=organization, name="Long").reply == lines.replace("\r\n", "\n")
