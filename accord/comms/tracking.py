"""Open and click tracking of a message as it goes out, for templates that ask for it: an
invisible image and links through Accord in the HTML part, each address carrying a token
signed with the secret key — the message, and for a link its target — so nobody can
make Accord count for another message or send a reader anywhere we did not link to (a
changed token is not ours: 404, never a redirect). The stored message stays as written;
only the copy handed to the mail server is tracked. What came back is counted by
accord/comms/services/tracking.py; the public addresses are tracking_views.py's."""

import base64
import html
import re
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q
from django.urls import reverse

from accord.comms import unsubscribe
from accord.comms.models import Mailing, Message

OPEN_SALT = "accord.comms.tracking.open"
CLICK_SALT = "accord.comms.tracking.click"
MAX_URL = 2000  # a longer link is left as it is (signed, it would pass what clients take)
MAX_TOKEN = 4000
# A transparent 1×1 GIF, the smallest image every mail program shows.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# A link's address in HTML written by nh3 (bodies.clean) or by us (the unsubscribe
# footer): always double-quoted, a quote inside escaped, so this finds each whole.
LINK = re.compile(r'(<a\s[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)


def open_token(message_id: int) -> str:
    return signing.Signer(salt=OPEN_SALT).sign(str(message_id))


def read_open(token: str) -> int | None:
    """The message a genuine open token names, else None."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        value = signing.Signer(salt=OPEN_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdecimal() and len(value) <= 18 else None


def click_token(message_id: int, url: str) -> str:
    return signing.Signer(salt=CLICK_SALT).sign_object({"m": message_id, "u": url}, compress=True)


def read_click(token: str) -> tuple[int, str] | None:
    """(message id, target) of a genuine click token, else None."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        payload = signing.Signer(salt=CLICK_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("m"), int):
        return None
    url = payload.get("u")
    return (payload["m"], url) if isinstance(url, str) and trackable(url) else None


def trackable(url: str) -> bool:
    """A web link that is not our unsubscribe link (mailto:, tel: and those stay as
    they are)."""
    return (
        len(url) <= MAX_URL
        and urlsplit(url).scheme.lower() in ("http", "https")
        and not unsubscribe.is_link(url)
    )


def html_for(message) -> str:
    """The HTML part as it goes out: the message's own, or, for a tracked one, with its web
    links passing through Accord and the invisible image under it."""
    body = message.html
    if not body or not getattr(message, "tracked", False):
        return body
    opens, clicks = _prefixes(settings.ACCORD_BASE_URL)

    def through_accord(found: re.Match) -> str:
        url = html.unescape(found.group(2)).strip()
        if not trackable(url):
            return found.group(0)
        link = clicks + click_token(message.pk, url)
        return f"{found.group(1)}{html.escape(link)}{found.group(3)}"

    pixel = html.escape(opens + open_token(message.pk) + ".gif")
    return (
        LINK.sub(through_accord, body)
        + f'\n<img src="{pixel}" width="1" height="1" alt="" style="display:block;border:0">'
    )


@cache
def _prefixes(base: str) -> tuple[str, str]:
    """The open and click addresses without their token (reversed once: a mailing makes
    thousands)."""
    root = base.rstrip("/")
    return (
        root + reverse("tracking_open", args=["-"]).removesuffix("-.gif"),
        root + reverse("tracking_click", args=["-"]).removesuffix("-"),
    )


def mailing_tracking(mailing: Mailing) -> dict[str, int]:
    """Of a mailing's tracked messages: how many went out, were opened, were clicked."""
    return Message.objects.filter(mailing=mailing, tracked=True).aggregate(
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
    )
