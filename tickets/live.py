"""Live updates without load: versions, poll tokens and presence, all in the shared cache.

The dashboard polls (the queue every 5 s, a ticket page every 5 s). Most polls find
nothing new, so an unchanged poll is answered from the cache alone:

- **Versions.** Each organization and each ticket has a counter in the cache, bumped after
  commit by the domain events' subscriber (``on_domain_event``), never by a request that
  only reads. A poll whose version is the one it was last shown has nothing new.
- **Poll tokens.** A page hands its poller a signed token naming who polls (user,
  organization, their display name), what (the queue's query or the ticket), the version
  it showed and a digest of the session cookie. While the token is young (``TOKEN_MAX_AGE``)
  and the cookie the same, the poll needs neither the session nor the user from the
  database; past that age a poll takes the full path again (the session is checked, the
  relative times are rendered afresh) and gets a new token. A token only ever tells
  "nothing changed": anything else is rendered behind the session.
- **Presence.** Who has a ticket open, and who is typing in its composer, with short TTLs
  (``VIEWING_SECONDS``, ``TYPING_SECONDS``), refreshed by the ticket page's polls.

With ``REDIS_URL`` set (production) none of this touches the database. With the database
cache (the no-install default) the versions are off (``versions_enabled``): a bump there
is several statements in the request of every change (a create paid 18), and a poll
would query to learn that nothing changed anyway; every poll renders in full, as before
versions existed. Presence works with either cache (with the database cache it is rows
of the cache table).
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import transaction

from . import events

# A token older than this takes the full path (session checked, page rendered again).
TOKEN_MAX_AGE = 60
# Someone whose page stopped polling (closed, asleep) drops out after three missed polls.
VIEWING_SECONDS = 15
# A typist who stops is "typing" for a few more seconds, as people expect.
TYPING_SECONDS = 8
# A version not bumped for a day expires; the next one starts elsewhere, at random.
VERSION_SECONDS = 24 * 3600

_SALT = "helpdesk.live.poll"


def _organization_key(organization_id: int) -> str:
    return f"live:v:organization:{organization_id}"


def _ticket_key(ticket_id: int) -> str:
    return f"live:v:ticket:{ticket_id}"


def _fresh_version() -> int:
    # Random, so a counter lost with the cache never starts again at a value a page holds.
    return secrets.randbelow(2**52) + 1


def versions_enabled() -> bool:
    """Versions need a cache that every process shares and that is not the database."""
    return not isinstance(caches["default"], DatabaseCache)


def _bump(key: str) -> None:
    if not versions_enabled():
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, _fresh_version(), VERSION_SECONDS)


def bump(*, organization_id: int, ticket_ids=()) -> None:
    """Something changed in the organization (and in these tickets): pollers render again."""
    _bump(_organization_key(organization_id))
    for ticket_id in ticket_ids:
        _bump(_ticket_key(ticket_id))


def ticket_changed_on_commit(ticket_id: int) -> None:
    """For what changes a ticket's page without a domain event (an email's delivery
    status): its version, once the change is committed."""
    if versions_enabled():
        transaction.on_commit(lambda: _bump(_ticket_key(ticket_id)), robust=True)


def _versions(keys: list[str]) -> dict[str, int]:
    """The counters under ``keys``, starting those the cache does not hold (all 0 while
    versions are off: a token naming 0 is never taken as unchanged)."""
    if not versions_enabled():
        return dict.fromkeys(keys, 0)
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            fresh = _fresh_version()
            # Two processes starting the same counter agree on whichever came first.
            found[key] = fresh if cache.add(key, fresh, VERSION_SECONDS) else cache.get(key, fresh)
    return found


def organization_version(organization_id: int) -> int:
    return _versions([_organization_key(organization_id)])[_organization_key(organization_id)]


def ticket_version(ticket_id: int) -> int:
    return _versions([_ticket_key(ticket_id)])[_ticket_key(ticket_id)]


def on_domain_event(event: events.DomainEvent) -> None:
    """After commit: the organization's version, and the version of each ticket it names."""
    ticket_ids = list(getattr(event, "ticket_ids", ()) or ())
    if getattr(event, "ticket_id", None) is not None:
        ticket_ids.append(event.ticket_id)
    bump(organization_id=event.organization_id, ticket_ids=ticket_ids)


# Every event changes what some poll shows: ticket rows, the thread, customers' names.
EVENT_TYPES = [
    events.TicketCreated,
    events.TicketUpdated,
    events.TicketStatusChanged,
    events.TicketAssigned,
    events.MessageCreated,
    events.TriggerFired,
    events.CustomerCreated,
    events.CustomerUpdated,
    events.SlaWarning,
    events.SlaBreached,
    events.SatisfactionRated,
    events.ContentsErased,
]


# Poll tokens ---------------------------------------------------------------------------


def session_digest(cookies) -> str:
    """A digest of the session cookie: a token works only beside the session it came with."""
    value = cookies.get(settings.SESSION_COOKIE_NAME, "")
    return hashlib.sha256(value.encode()).hexdigest()[:24] if value else ""


def queue_scope(query: str) -> str:
    return "queue:" + hashlib.sha256(query.encode()).hexdigest()[:16]


def ticket_scope(public_id: str) -> str:
    return f"ticket:{public_id}"


@dataclass(frozen=True)
class Poller:
    user_id: int
    organization_id: int
    name: str
    scope: str
    version: int | None
    ticket_id: int | None = None
    young: bool = True


def make_token(poller: Poller, cookies) -> str:
    return signing.dumps(
        {
            "u": poller.user_id,
            "o": poller.organization_id,
            "n": poller.name,
            "k": poller.scope,
            "v": poller.version,
            "t": poller.ticket_id,
            "s": session_digest(cookies),
        },
        salt=_SALT,
    )


def read_token(token: str, *, scope: str, cookies) -> Poller | None:
    """The poller a genuine token names for this scope and session; else None.

    ``young`` says whether it may answer alone; an older one still tells the full path
    which ticket it is about, so that path reads the version before the thread.
    """
    if not token:
        return None
    young = True
    try:
        data = signing.loads(token, salt=_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        young = False
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    digest = session_digest(cookies)
    if data.get("k") != scope or not digest or not secrets.compare_digest(data.get("s", ""), digest):
        return None
    return Poller(
        user_id=data["u"],
        organization_id=data["o"],
        name=data["n"],
        scope=data["k"],
        version=data["v"],
        ticket_id=data["t"],
        young=young,
    )


def unchanged_queue(poller: Poller) -> bool:
    return (
        versions_enabled()
        and poller.young
        and poller.version is not None
        and organization_version(poller.organization_id) == poller.version
    )


def unchanged_ticket(poller: Poller) -> bool:
    return (
        versions_enabled()
        and poller.young
        and poller.version is not None
        and poller.ticket_id is not None
        and ticket_version(poller.ticket_id) == poller.version
    )


# Presence ------------------------------------------------------------------------------


def _roster_key(ticket_id: int) -> str:
    return f"live:roster:{ticket_id}"


def _presence_key(ticket_id: int, user_id: int) -> str:
    return f"live:presence:{ticket_id}:{user_id}"


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    typing: bool


def here(*, ticket_id: int, user_id: int, name: str, typing: bool = False) -> list[Viewer]:
    """Record that ``user_id`` has the ticket open (and is typing), and return the others
    who do, by name."""
    now = time.time()
    roster = cache.get(_roster_key(ticket_id)) or []
    others = [other for other in roster if other != user_id]
    entries = cache.get_many([_presence_key(ticket_id, other) for other in others]) if others else {}
    mine = {"name": name, "typing_until": now + TYPING_SECONDS if typing else 0}
    present = [other for other in others if _presence_key(ticket_id, other) in entries]
    # Both written on every poll, which keeps them alive; two agents joining at the same
    # instant may drop one from the roster, who is back at their next poll.
    cache.set_many(
        {_presence_key(ticket_id, user_id): mine, _roster_key(ticket_id): [*present, user_id]},
        VIEWING_SECONDS,
    )
    viewers = []
    for other in present:
        entry = entries[_presence_key(ticket_id, other)]
        viewers.append(Viewer(user_id=other, name=entry["name"], typing=entry["typing_until"] > now))
    return sorted(viewers, key=lambda viewer: (viewer.name.lower(), viewer.user_id))


def presence_digest(viewers: list[Viewer]) -> str:
    """What a page shows of the others, in a few characters: equal means nothing to redraw."""
    text = ";".join(f"{viewer.user_id}:{int(viewer.typing)}" for viewer in viewers)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
