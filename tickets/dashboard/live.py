"""The dashboard's polls answered from the cache alone when nothing changed (docs/dashboard.md).

``UnchangedPollMiddleware`` sits before the two-factor check, which is the first to load
the session and the user: a poll that carries a young poll token (``tickets.live``) for
its own session, and whose version is unchanged, is answered here with 204 — or, on the
ticket page, with the presence strip alone when only who is there changed. Every other
poll goes on to its view, behind the session, and gets a fresh token.
"""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control

from tickets import live

TOKEN_HEADER = "X-Live-Token"  # noqa: S105 - a header name, not a secret
PRESENCE_HEADER = "X-Live-Presence"


def answers_unchanged(answer):
    """Mark a view as a poll whose unchanged answer ``answer(request, **kwargs)`` may give
    from the cache (or None to let the view render)."""

    def mark(view):
        view.answer_unchanged = answer
        return view

    return mark


class UnchangedPollMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and TOKEN_HEADER in request.headers and request.path.startswith("/desk/"):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            answer = getattr(match.func, "answer_unchanged", None) if match else None
            response = answer(request, **match.kwargs) if answer else None
            if response is not None:
                # As every page of a person's own (PrivatePagesMiddleware, which this skips).
                patch_cache_control(response, private=True, no_store=True)
                return response
        return self.get_response(request)


def queue_poller(request) -> live.Poller | None:
    return live.read_token(
        request.headers.get(TOKEN_HEADER, ""),
        scope=live.queue_scope(request.GET.urlencode()),
        cookies=request.COOKIES,
    )


def unchanged_queue(request) -> HttpResponse | None:
    poller = queue_poller(request)
    if poller and live.unchanged_queue(poller):
        return HttpResponse(status=204)
    return None


def queue_token(request, version: int | None) -> str:
    """The token for the queue page's poller, minted behind the session."""
    return live.make_token(
        live.Poller(
            user_id=request.user.pk,
            organization_id=request.organization.pk,
            name=request.user.display_name,
            scope=live.queue_scope(request.GET.urlencode()),
            version=version,
        ),
        request.COOKIES,
    )


def ticket_poller(request, public_id: str) -> live.Poller | None:
    return live.read_token(
        request.headers.get(TOKEN_HEADER, ""), scope=live.ticket_scope(public_id), cookies=request.COOKIES
    )


def ticket_token(request, ticket, version: int | None) -> str:
    return live.make_token(
        live.Poller(
            user_id=request.user.pk,
            organization_id=request.organization.pk,
            name=request.user.display_name,
            scope=live.ticket_scope(ticket.public_id),
            version=version,
            ticket_id=ticket.pk,
        ),
        request.COOKIES,
    )


def is_typing(request) -> bool:
    return request.GET.get("typing") == "1"


def presence_context(viewers: list[live.Viewer], *, oob: bool = False) -> dict:
    return {
        "viewers": viewers,
        "typists": [viewer for viewer in viewers if viewer.typing],
        "presence_digest": live.presence_digest(viewers),
        "oob": oob,
    }


def presence_only(viewers: list[live.Viewer]) -> HttpResponse:
    """The presence strip alone, swapped out of band; the thread stays as it is."""
    html = render_to_string("dashboard/ticket.html#presence", presence_context(viewers, oob=True))
    response = HttpResponse(html)
    response["HX-Reswap"] = "none"
    return response


def unchanged_ticket(request, public_id: str) -> HttpResponse | None:
    poller = ticket_poller(request, public_id)
    if not poller or not live.unchanged_ticket(poller):
        return None
    viewers = live.here(
        ticket_id=poller.ticket_id, user_id=poller.user_id, name=poller.name, typing=is_typing(request)
    )
    if live.presence_digest(viewers) == request.headers.get(PRESENCE_HEADER, ""):
        return HttpResponse(status=204)
    return presence_only(viewers)
