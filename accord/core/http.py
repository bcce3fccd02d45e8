"""Accord's one outgoing HTTP client: webhooks, a PBX's recordings, SMS and messenger
gateways.

Anyone who can set up an automation types the address Accord posts to, so the address
must not become a way into the machine or the company network (SSRF): a cloud's metadata
service at 169.254.169.254, an admin panel on 127.0.0.1, a database on 10.x. Hence:

- The host is resolved once, and the call is refused if ANY of its addresses is private,
  loopback, link-local, multicast, reserved, unspecified or otherwise not global (an
  IPv4 address inside IPv6, ``::ffff:127.0.0.1``, is judged as the IPv4 address). Checking
  only the first address would let a name with one public and one private address through.
- The connection goes to the address that was checked, not to the name, so DNS answering
  differently a moment later (rebinding) cannot slip through. The Host header, TLS SNI
  and the certificate check still use the name, so https works as usual.
- ``settings.ACCORD_WEBHOOK_ALLOWED_HOSTS`` lets an administrator allow an inside
  receiver. An entry is a host name or IP address (matched exactly, case-insensitive:
  ``crm-hooks.lan``, ``10.0.0.5``, ``::1``), which allows every port, or ``host:port``
  (``localhost:8080``, ``[::1]:8080``), which allows that port only (80/443 when the
  address names none). There are no wildcards.
- Redirects are followed by hand, at most 5, and every hop is checked the same way, so a
  public receiver cannot bounce the call to 127.0.0.1. 307 and 308 are followed with the
  same POST, body and signature. 301, 302 and 303 are NOT followed: clients turn them into
  a GET without the body, so the receiver would get nothing while Accord reported
  success; they raise Failed (not retried) naming the new address, for the user to change.
  An Authorization header given by the caller is dropped when a redirect leaves the
  original scheme, host and port.
- Proxy variables (HTTP_PROXY...) are ignored: a proxy resolves the name itself, which
  would void the check. SSL_CERT_FILE / SSL_CERT_DIR are honoured for a company's own CA.
- ``timeout`` bounds connecting and each read. Once the status has arrived it decides
  the outcome; the body is read for at most ``timeout`` more seconds and 64 KiB, so a
  hostile receiver can neither stream for ever nor fill the memory.
- Delivery is at least once: after a timeout the receiver may have got the call, and a
  retry sends it again. Put an event id in the payload so the receiver can tell.
"""

import codecs
import contextlib
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 2000
MAX_REDIRECTS = 5
TOTAL_TIMEOUTS = 3  # one exchange (connecting, the headers, the body) takes at most 3 timeouts
MAX_BODY_BYTES = 64 * 1024
ANSWER_CHARACTERS = 2000
USER_AGENT = "Accord-Webhook/1"
DEFAULT_PORTS = {"http": 80, "https": 443}

HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The address is not allowed (private, loopback, link-local, multicast, reserved,
    unspecified, or not http/https, or a bad URL): never retried."""


class Failed(Exception):
    """The call failed: `.retry` is True for a network error, a timeout, HTTP 408/429/5xx;
    False for other 4xx. `.status` (int | None) is the receiver's HTTP status, `.body` the
    first 2,000 characters of its answer."""

    def __init__(
        self, message: str, *, retry: bool, status: int | None = None, body: str = "",
        maybe_sent: bool = False,
    ):  # fmt: skip
        super().__init__(message)
        self.retry = retry
        self.status = status
        self.body = body
        # The request went out and no answer came (a read timeout, a broken connection):
        # the receiver may have it. A message sent this way is not sent again by itself.
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # the first 2,000 characters
    elapsed_ms: int


def check_url(url: str) -> list[str]:
    """What is wrong with a URL typed on a form, without any network access; [] when fine.
    A literal private address (or ``localhost``) is reported unless it is allowed."""
    problems = _url_problems(url)
    if problems:
        return problems
    parsed = httpx.URL(url)
    if _allowed(parsed):
        return []
    host = _host(parsed)
    if host.rstrip(".") == "localhost" or host.endswith(".localhost"):
        return [_not_public(parsed, "127.0.0.1")]
    try:  # AI_NUMERICHOST: only reads an address written as numbers (2130706433 too)
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return []
    return [_not_public(parsed, str(a)) for a in _addresses(found) if not _is_public(a)][:1]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Accord-Signature of a body sent at `timestamp` (Stripe's scheme)."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def post_json(
    url: str,
    payload: dict,
    *,
    secret: str = "",
    timeout: float = 10.0,
    headers: dict | None = None,
) -> Answer:
    """POST `payload` as JSON to `url`; the Answer for a 2xx, else Refused or Failed."""
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    ours = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "X-Accord-Timestamp": timestamp,
    }
    if secret:
        ours["X-Accord-Signature"] = sign(secret, timestamp, body)
    taken = {name.lower() for name in ours} | {"host", "content-length"}
    sent = {k: v for k, v in (headers or {}).items() if k.lower() not in taken} | ours
    return send("POST", url, body=body, headers=sent, timeout=timeout)


def send(
    method: str, url: str, *, body: bytes = b"", headers: dict | None = None, timeout: float = 10.0
) -> Answer:
    """One request (a messenger's or an SMS gateway's API call) under the rules above; the
    Answer for a 2xx, else Refused or Failed. 307 and 308 are followed with the same body."""
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
    started = time.monotonic()
    origin = _origin(_parsed(url))
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = _parsed(current)
        if _origin(target) != origin:
            sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
        status, reason, location, text = _within(
            target, timeout, _exchange, method, target, _resolved(target), body, sent, timeout
        )
        if 200 <= status < 300:
            elapsed_ms = int((time.monotonic() - started) * 1000)
            return Answer(status=status, body=text, elapsed_ms=elapsed_ms)
        if status in (307, 308) and location:
            current = str(target.join(location))
            continue
        raise _failure(target, status, reason, location, text)
    raise Failed(
        _("The address redirected more than %(count)s times.") % {"count": MAX_REDIRECTS},
        retry=False,
    )


def get_file(
    url: str, *, headers: dict | None = None, timeout: float = 10.0, limit: int = 50 * 2**20
) -> tuple[bytes, str]:
    """GET a file (a call's recording) from `url` under the same rules as a webhook: every
    address checked, redirects followed by hand (each hop checked), the whole exchange
    bounded in time; (content, its type), or Refused / Failed (also for a file over
    `limit` bytes)."""
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
    origin = _origin(_parsed(url))
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = _parsed(current)
        if _origin(target) != origin:
            sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
        status, location, kind, content = _within(
            target, timeout, _download, target, _resolved(target), sent, timeout, limit
        )
        if 200 <= status < 300:
            return content, kind
        if status in (301, 302, 303, 307, 308) and location:
            current = str(target.join(location))
            continue
        raise _failure(target, status, "", "", content[:ANSWER_CHARACTERS].decode(errors="replace"))
    raise Failed(
        _("The address redirected more than %(count)s times.") % {"count": MAX_REDIRECTS},
        retry=False,
    )


# --- Checking an address -------------------------------------------------------------


def _url_problems(url: str) -> list[str]:
    if not url.strip():
        return [_("Enter an address.")]
    if len(url) > MAX_URL_LENGTH:
        return [_("The address is longer than %(count)s characters.") % {"count": "2,000"}]
    if any(c.isspace() or ord(c) < 32 for c in url):
        return [_("The address must not contain spaces.")]
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return [_("This is not a valid web address.")]
    if parsed.scheme not in DEFAULT_PORTS:
        return [_("The address must start with http:// or https://.")]
    if not parsed.raw_host:
        return [_("The address has no host name.")]
    host = _host(parsed)
    try:
        shown = parsed.host  # the Unicode name: "xn--localhost" has none (no valid IDNA)
    except UnicodeError:
        return [_("The host name “%(host)s” is not valid.") % {"host": host}]
    if ":" not in host and not HOST_NAME.match(host):
        return [_("The host name “%(host)s” is not valid.") % {"host": shown}]
    if parsed.port is not None and not 0 < parsed.port < 65536:
        return [_("The port must be a number from 1 to 65535.")]
    return []


def _parsed(url: str) -> httpx.URL:
    problems = _url_problems(url)
    if problems:
        raise Refused(problems[0])
    return httpx.URL(url)


def _host(url: httpx.URL) -> str:
    """The host as it goes on the wire: lower case, IDNA-encoded, IPv6 without brackets."""
    return url.raw_host.decode("ascii").lower()


def _port(url: httpx.URL) -> int:
    return url.port or DEFAULT_PORTS[url.scheme]


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, _host(url), _port(url)


def _allowed(url: httpx.URL) -> bool:
    names = {_host(url).rstrip("."), url.host.lower().rstrip(".")}
    for entry in settings.ACCORD_WEBHOOK_ALLOWED_HOSTS:
        name, port = _allowed_entry(entry.strip().lower())
        if name in names and port in (None, _port(url)):
            return True
    return False


def _allowed_entry(entry: str) -> tuple[str, int | None]:
    """("host", port or None) from "host", "host:port", "::1", "[::1]" or "[::1]:port"."""
    if entry.startswith("["):
        name, _bracket, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        name, _colon, port = entry.partition(":")
    else:
        name, port = entry, ""
    if not port:
        return name.rstrip("."), None
    return name.rstrip("."), int(port) if port.isdecimal() else -1


def _resolved(url: httpx.URL) -> list[str]:
    """The addresses to connect to, each checked; Refused if any of them is not public."""
    host = _host(url)
    try:
        found = socket.getaddrinfo(host, _port(url), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Failed(
            _("Could not find the host %(host)s (%(reason)s).")
            % {"host": url.host, "reason": error},
            retry=True,
        ) from error
    addresses = _addresses(found)
    if not _allowed(url):
        for address in addresses:
            if not _is_public(address):
                raise Refused(_not_public(url, str(address)))
    return [str(address) for address in addresses]


def _addresses(found: list) -> list[Address]:
    unique: dict[Address, None] = {}
    for _family, _type, _proto, _name, sockaddr in found:
        unique[ipaddress.ip_address(str(sockaddr[0]).split("%")[0])] = None
    return list(unique)


def _is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            address = address.ipv4_mapped
        elif address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _not_public(url: httpx.URL, address: str) -> str:
    if url.host == address:
        return _(
            "%(host)s is a private or local address, which webhooks may not call; an "
            "administrator can allow it in ACCORD_WEBHOOK_ALLOWED_HOSTS."
        ) % {"host": url.host}
    return _(
        "%(host)s leads to a private or local address (%(address)s), which webhooks may not "
        "call; an administrator can allow it in ACCORD_WEBHOOK_ALLOWED_HOSTS."
    ) % {"host": url.host, "address": address}


# --- Sending -------------------------------------------------------------------------


def _exchange(
    method: str, url: httpx.URL, addresses: list[str], body: bytes, headers: dict, timeout: float
) -> tuple[int, str, str, str]:
    """(status, reason, Location, text) of one request to the checked addresses in turn: the
    next address is tried only when connecting to one failed, so nothing is sent twice."""
    sent = {**headers, "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": _host(url).rstrip(".")} if url.scheme == "https" else {}
    tls = httpx.create_ssl_context(trust_env=True)
    unreachable: httpx.ConnectError | None = None
    for address in addresses:
        try:
            with (
                httpx.Client(verify=tls, trust_env=False, timeout=timeout) as client,
                client.stream(
                    method,
                    url.copy_with(host=address),
                    content=body,
                    headers=sent,
                    extensions=extensions,
                ) as response,
            ):
                text = _text(response, timeout)
                return (
                    response.status_code,
                    response.reason_phrase,
                    response.headers.get("Location", ""),
                    text,
                )
        except httpx.ConnectError as error:
            unreachable = error
        except httpx.ConnectTimeout as error:  # nothing went out
            raise Failed(
                _("%(host)s did not answer within %(seconds)s seconds.")
                % {"host": url.host, "seconds": f"{timeout:g}"},
                retry=True,
            ) from error
        except httpx.TimeoutException as error:  # sent, perhaps: no answer came
            raise Failed(
                _("%(host)s did not answer within %(seconds)s seconds.")
                % {"host": url.host, "seconds": f"{timeout:g}"},
                retry=True,
                maybe_sent=True,
            ) from error
        except httpx.TransportError as error:
            failed = _unreachable(url, error)
            failed.maybe_sent = True
            raise failed from error
    raise _unreachable(url, unreachable)


def _download(
    url: httpx.URL, addresses: list[str], headers: dict, timeout: float, limit: int
) -> tuple[int, str, str, bytes]:
    """(status, Location, Content-Type, body) of one GET to the checked addresses in turn."""
    sent = {**headers, "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": _host(url).rstrip(".")} if url.scheme == "https" else {}
    tls = httpx.create_ssl_context(trust_env=True)
    unreachable: httpx.ConnectError | None = None
    for address in addresses:
        try:
            with (
                httpx.Client(verify=tls, trust_env=False, timeout=timeout) as client,
                client.stream(
                    "GET", url.copy_with(host=address), headers=sent, extensions=extensions
                ) as response,
            ):
                data = bytearray()
                for chunk in response.iter_raw():
                    data += chunk
                    if len(data) > limit:
                        raise Failed(
                            _("The file at %(host)s is larger than %(mb)s MB.")
                            % {"host": url.host, "mb": limit // 2**20},
                            retry=False,
                        )
                return (
                    response.status_code,
                    response.headers.get("Location", ""),
                    response.headers.get("Content-Type", "application/octet-stream"),
                    bytes(data),
                )
        except httpx.ConnectError as error:
            unreachable = error
        except httpx.TimeoutException as error:
            raise Failed(
                _("%(host)s did not answer within %(seconds)s seconds.")
                % {"host": url.host, "seconds": f"{timeout:g}"},
                retry=True,
            ) from error
        except httpx.TransportError as error:
            raise _unreachable(url, error) from error
    raise _unreachable(url, unreachable)


def _within(url: httpx.URL, timeout: float, call, *args):
    """`call(*args)`, given at most a few times `timeout` in all. httpx's timeouts bound
    each read, so a receiver sending its answer a byte a second would hold the worker for
    ever; past the limit the call is left to end in a thread of its own (a daemon: it
    holds up no exit) and the step is retried later."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["answer"] = call(*args)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="accord-http", daemon=True)
    thread.start()
    thread.join(timeout * TOTAL_TIMEOUTS)
    if thread.is_alive():
        raise Failed(
            _("%(host)s did not answer within %(seconds)s seconds.")
            % {"host": url.host, "seconds": f"{timeout * TOTAL_TIMEOUTS:g}"},
            retry=True,
            maybe_sent=True,
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


def _text(response: httpx.Response, timeout: float) -> str:
    """The first characters of the answer. The status has arrived and decides; the body is
    only for the log, so reading stops, without an error, after MAX_BODY_BYTES, after
    `timeout` seconds, or when the connection breaks."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    with contextlib.suppress(httpx.TransportError):
        for chunk in response.iter_raw():
            data += chunk
            if len(data) >= MAX_BODY_BYTES or time.monotonic() > deadline:
                break
    encoding = response.charset_encoding or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    return bytes(data[:MAX_BODY_BYTES]).decode(encoding, errors="replace")[:ANSWER_CHARACTERS]


def _unreachable(url: httpx.URL, error: Exception | None) -> Failed:
    return Failed(
        _("Could not reach %(host)s (%(reason)s).") % {"host": url.host, "reason": error},
        retry=True,
    )


def _failure(url: httpx.URL, status: int, reason: str, location: str, text: str) -> Failed:
    if status in (301, 302, 303) and location:
        message = _(
            "%(host)s answered %(status)s: the address moved to %(location)s. Webhooks do "
            "not follow such a move, since the data would be lost on the way; change the "
            "address to the new one."
        ) % {"host": url.host, "status": status, "location": url.join(location)}
        return Failed(message, retry=False, status=status, body=text)
    message = _("%(host)s answered %(status)s %(reason)s.") % {
        "host": url.host,
        "status": status,
        "reason": _phrase(status) or reason,
    }
    retry = status in (408, 429) or status >= 500
    return Failed(message, retry=retry, status=status, body=text)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
