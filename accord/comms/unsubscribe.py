"""The one-click unsubscribe address every marketing message carries (RFC 8058): a token
signed with the secret key that names the person and the address (and the mailing it came
in), so it cannot be guessed or changed, and needs no row until someone uses it."""

from functools import cache

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from accord.comms.models import Unsubscribe

SALT = "accord.comms.unsubscribe"


def token(*, person_id: int, address: str, mailing_id: int | None = None) -> str:
    """The same for the same person, address and mailing (the body's link and the
    List-Unsubscribe header agree)."""
    payload = {"p": person_id, "a": address.lower()}
    if mailing_id:
        payload["m"] = mailing_id
    return signing.Signer(salt=SALT).sign_object(payload, compress=True)


def read(value: str) -> dict | None:
    """{"person_id", "address", "mailing_id"} of a genuine token, else None."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(value)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        return None
    return {"person_id": payload["p"], "address": str(payload.get("a") or ""),
            "mailing_id": payload.get("m")}  # fmt: skip


def url(*, person_id: int, address: str, mailing_id: int | None = None) -> str:
    """The full address, on the site's base URL (ACCORD_BASE_URL)."""
    link = token(person_id=person_id, address=address, mailing_id=mailing_id)
    return _prefix(settings.ACCORD_BASE_URL) + link


def is_link(address: str) -> bool:
    """Whether an address is one of our unsubscribe links (open tracking leaves them be)."""
    return address.startswith(_prefix(settings.ACCORD_BASE_URL))


@cache
def _prefix(base: str) -> str:
    """The link without its token (reversed once: a mailing makes thousands)."""
    return base.rstrip("/") + reverse("unsubscribe", args=["-"])[:-1]


def with_footer(html: str, text: str, link: str, language: str) -> tuple[str, str]:
    """The body with the unsubscribe link under it, in the reader's language."""
    with translation.override(language):
        words = _("You receive our offers and news because you agreed to them.")
        action = _("Unsubscribe")
    html = (
        f'{html}\n<hr><p><small>{escape(words)} <a href="{escape(link)}">{escape(action)}</a>'
        "</small></p>"
    )
    text = f"{text}\n\n--\n{words}\n{action}: {link}"
    return html, text


def is_unsubscribed(*, address: str = "", person_id: int | None = None) -> bool:
    found = Q(pk__in=[])
    if address:
        found |= Q(address=address.lower())
    if person_id:
        found |= Q(person_id=person_id)
    return Unsubscribe.objects.filter(found).exists()
