"""One POST to a receiver, guarded against server-side request forgery.

The URL's host is resolved at send time, every address it resolves to is checked (a name
that pointed to a public address when it was saved may point to 127.0.0.1 now: DNS
rebinding), and the connection goes to an address that was checked — never to a second
resolution of the name. Private, loopback, link-local, cloud-metadata and other
non-public addresses are refused unless the operator allows them
(``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``: development and tests with a local receiver).
Redirects are never followed: a 3xx is an answer like any other non-2xx. The whole
exchange has one deadline (``WEBHOOK_TIMEOUT_SECONDS``), however slowly the receiver
drips its answer.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from tickets.exceptions import InvalidInput

URL_MAX_LENGTH = 2000
# What the delivery log keeps of an answer, and how much of it is read at all.
RESPONSE_EXCERPT_CHARACTERS = 1000
RESPONSE_READ_LIMIT = 64 * 1024

# Cloud instance metadata services: AWS/GCP/Azure/OpenStack, AWS over IPv6, ECS task
# metadata, Alibaba. Named so the refusal says what it is (most are non-public anyway).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


class UnsafeDestination(Exception):
    """The URL leads to an address webhooks may not reach."""


@dataclass(frozen=True)
class Answer:
    status_code: int | None = None
    body: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), which is what is reached."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: str) -> str | None:
    """Why webhooks may not connect to ``address``, in words; None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        ip = _embedded_ipv4(ip) or ip
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "a non-public address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_reserved or not ip.is_global:
        return "a non-public address"
    return None


def check_url(url, *, field: str = "url") -> str:
    """The URL's shape: absolute http(s), a host, no credentials; https when required."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(field, "Give the URL that receives the webhooks.")
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise InvalidInput(field, f"At most {URL_MAX_LENGTH} characters.")
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise InvalidInput(field, "A URL cannot contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput(field, "Enter an absolute URL, e.g. https://example.com/webhooks.")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise InvalidInput(field, "The port must be a number from 1 to 65535.") from None
    if settings.WEBHOOK_REQUIRE_HTTPS and parts.scheme != "https":
        raise InvalidInput(field, "Webhook URLs must use https.")
    if parts.username or parts.password:
        raise InvalidInput(field, "Leave credentials out of the URL: receivers verify the signature.")
    if parts.fragment:
        raise InvalidInput(field, "A webhook URL cannot have a #fragment.")
    return url


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def resolve(url: str) -> list[str]:
    """The addresses the URL's host resolves to now, each one checked.

    Raises ``UnsafeDestination`` when any of them may not be reached (an answer mixing a
    public and a private address is refused whole), ``socket.gaierror`` when the name
    does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    if not allow_private and host.rstrip(".").lower() in METADATA_HOSTNAMES:
        raise UnsafeDestination(f"{host} is a cloud metadata service")
    infos = socket.getaddrinfo(host, _port(parts), type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise UnsafeDestination(f"{host} resolves to {reason} ({address})")
    return addresses


def check_destination(url: str, *, field: str = "url") -> None:
    """At save time: refuse a URL that leads where webhooks may not go.

    A name that does not resolve (yet) is accepted; its deliveries fail, and are logged,
    until it does. Sending checks again whatever was saved.
    """
    try:
        resolve(url)
    except UnsafeDestination as error:
        raise InvalidInput(field, f"Webhooks cannot be sent there: {error}.") from None
    except (OSError, UnicodeError):
        pass


class _PinnedConnectionMixin:
    """Connects to the addresses that were checked, not to a fresh lookup of the name."""

    addresses: list[str]

    def _open_socket(self):
        last_error: OSError | None = None
        for address in self.addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as error:
                last_error = error
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        raise last_error or OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    def connect(self):
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    def connect(self):
        # The certificate is checked against the host name of the URL (SNI too).
        self.sock = self._context.wrap_socket(self._open_socket(), server_hostname=self.host)


def _connection(parts, addresses: list[str], timeout: float):
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            parts.hostname, _port(parts), timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(parts.hostname, _port(parts), timeout=timeout)
    connection.addresses = addresses
    return connection


def _read_excerpt(response, connection, deadline: float) -> str:
    chunks, size = [], 0
    while size < RESPONSE_READ_LIMIT:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        chunk = response.read1(min(16 * 1024, RESPONSE_READ_LIMIT - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if response.length == 0:
        response.read()  # Nothing left: marks the answer read, so the connection can be reused.
    return b"".join(chunks).decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARACTERS]


# A kept-alive connection the receiver closed while idle fails the next request before any
# answer: that request is sent again once on a new connection (it never arrived).
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Sender:
    """POSTs to one URL, keeping the connection open between them while the receiver does.

    The name is resolved and every address checked whenever a connection is opened; a
    connection is reused only for the same URL, moments later, within one drain.
    """

    def __init__(self, url: str, *, timeout: float):
        self.url = url
        self.timeout = timeout
        self.parts = urlsplit(url)
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body``; the answer, or why there was none. Never raises."""
        started = time.monotonic()
        reused = self.connection is not None
        answer = self._post(body, headers, started)
        if reused and answer.error == "stale":
            answer = self._post(body, headers, started)
        if answer.error == "stale":
            answer = Answer(duration_ms=answer.duration_ms, error="Connection closed by the receiver.")
        return answer

    def _post(self, body: bytes, headers: dict[str, str], started: float) -> Answer:
        deadline = started + self.timeout

        def finished(**fields) -> Answer:
            return Answer(duration_ms=round((time.monotonic() - started) * 1000), **fields)

        if self.connection is None:
            try:
                addresses = resolve(self.url)
            except UnsafeDestination as error:
                return finished(error=f"Not sent: {error}.")
            except (OSError, UnicodeError):
                return finished(error=f"Not sent: {self.parts.hostname} does not resolve.")
            self.connection = _connection(self.parts, addresses, self.timeout)
        path = (self.parts.path or "/") + (f"?{self.parts.query}" if self.parts.query else "")
        connection = self.connection
        keep = False
        try:
            if connection.sock is not None:
                connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = _read_excerpt(response, connection, deadline)
            # Reusable only when the whole answer was read and the receiver keeps the line.
            keep = response.isclosed() and not response.will_close
            return finished(status_code=response.status, body=excerpt)
        except STALE_CONNECTION_ERRORS:
            return finished(error="stale")
        except TimeoutError:
            return finished(error=f"No answer within {self.timeout:g} s.")
        except ssl.SSLError as error:
            return finished(error=f"TLS failed: {error.reason or error}.")
        except http.client.HTTPException as error:
            return finished(error=f"Not an HTTP answer ({type(error).__name__}).")
        except OSError as error:
            return finished(error=f"Connection failed: {error.strerror or error}.")
        finally:
            if not keep:
                self.close()
