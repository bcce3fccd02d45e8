"""What messengers and SMS gateways say and how Accord talks to them: one adapter per
provider checks a delivery's signature and reads it into `ChatSignal`s (a message came,
a message of ours was delivered), the same whatever the provider; and sends a message,
fetches a file, sets up the webhook. No database here (services/messengers.py keeps the
connections, services/chats.py what arrives).

- Telegram (Bot API): updates posted to the webhook Accord set with `setWebhook`, each
  carrying our secret in `X-Telegram-Bot-Api-Secret-Token`;
- WhatsApp Cloud API: the `hub.verify_token` handshake, then deliveries signed in
  `X-Hub-Signature-256` (HMAC-SHA256 of the body under the app secret);
- SMS through Twilio: incoming messages and status callbacks, form-encoded, signed in
  `X-Twilio-Signature` like its voice callbacks;
- SMS through any HTTP gateway: sending by a request the admin describes (address, method,
  body with {to}, {text}, {from}, {key}); incoming messages and delivery reports in
  Accord's JSON format (docs/api.md), signed like a PBX's (`X-Accord-Signature`).
"""

import base64
import datetime
import json
from dataclasses import asdict, dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from accord.comms.telephony import (
    Refused,
    clean_text,
    generic_signature,
    read_moment,
    same_secret,
    twilio_signature,
)
from accord.core import http
from accord.core.phones import PhoneError, normalize_phone

MESSAGE, STATUS = "message", "status"
DELIVERED, READ, FAILED, SENT = "delivered", "read", "failed", "sent"
TEXT_LIMIT = 4096  # characters of a message's text we keep (Telegram's own limit)
LIMIT = 200
MEDIA_LIMIT = 20 * 2**20  # bytes of one received file


@dataclass(frozen=True)
class ChatSignal:
    """One thing a provider said, in Accord's words."""

    key: str  # unique per connection: a repeat of the delivery has the same key
    kind: str  # MESSAGE or STATUS
    address: str = ""  # the client's chat id or number (E.164 when it is one)
    name: str = ""  # their name as the messenger shows it
    phone: str = ""  # a number they shared (a Telegram contact), E.164
    text: str = ""
    at: str = ""  # ISO 8601 ("": when it came)
    provider_id: str = ""  # the message's own id; a STATUS names the message it is about
    status: str = ""  # DELIVERED, READ, FAILED, SENT
    error: str = ""  # why it failed, in the provider's words
    media: list = field(default_factory=list)  # [{"ref", "name", "type"}] fetched later

    def as_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict) -> "ChatSignal":
        return cls(**payload)


def read(messenger, *, body: bytes, headers, form, url: str, secret: str) -> list[ChatSignal]:
    """The signals of one delivery to `messenger`'s webhook, or Refused (`url`: the address
    as the provider saw it; `secret`: the unsealed signing secret, where there is one)."""
    provider = messenger.provider
    if provider == "telegram":
        given = headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not same_secret(messenger.webhook_secret, given):
            raise Refused(_("The secret token does not match the connection's."), 403)
        return _telegram(_json(body))
    if provider == "whatsapp":
        given = headers.get("X-Hub-Signature-256", "")
        if not secret or not same_secret(generic_signature(secret, body), given):
            raise Refused(_("The signature does not match the connection's app secret."), 403)
        return _whatsapp(_json(body))
    if provider == "twilio_sms":
        params = {name: form.get(name, "") for name in form}
        if not secret or not same_secret(
            twilio_signature(secret, url, params), headers.get("X-Twilio-Signature", "")
        ):
            raise Refused(_("The signature does not match the connection's secret."), 403)
        return [_twilio(params)]
    if not secret or not same_secret(
        generic_signature(secret, body), headers.get("X-Accord-Signature", "")
    ):
        raise Refused(_("The signature does not match the connection's secret."), 403)
    data = _json(body)
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > 100:
        raise Refused(_("Send from 1 to 100 messages at a time."))
    return [_gateway_one(item) for item in items]


# --- Telegram ------------------------------------------------------------------------------


def _telegram(update) -> list[ChatSignal]:
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise Refused(_("“update_id” is missing."))
    message = update.get("message")
    if not isinstance(message, dict):
        return []  # an edit, a button, a member change: nothing for a conversation
    chat, sender = message.get("chat"), message.get("from") or {}
    if not isinstance(chat, dict) or chat.get("id") is None or not isinstance(sender, dict):
        raise Refused(_("“message.chat.id” is missing."))
    if chat.get("type", "private") != "private":
        return []  # a group the bot is in: its members are not one client
    name = " ".join(clean_text(sender.get(part)) for part in ("first_name", "last_name")).strip()
    media = []
    if isinstance(message.get("photo"), list) and message["photo"]:
        largest = message["photo"][-1]
        if isinstance(largest, dict):
            media.append(_file(largest, "photo.jpg", "image/jpeg"))
    for kind, default_name, default_type in (
        ("document", "document", "application/octet-stream"),
        ("voice", "voice.ogg", "audio/ogg"),
        ("audio", "audio.mp3", "audio/mpeg"),
        ("video", "video.mp4", "video/mp4"),
    ):
        if isinstance(message.get(kind), dict):
            media.append(_file(message[kind], default_name, default_type))
    contact = message.get("contact") if isinstance(message.get("contact"), dict) else {}
    # A contact card is the sender's own number only when it is theirs (anyone can send
    # anyone's card): else it is not who writes.
    if contact and (contact.get("user_id") is None or contact.get("user_id") != sender.get("id")):
        contact = {}
    media = [item for item in media if item["ref"]]
    return [
        ChatSignal(
            key=f"u{update['update_id']}",
            kind=MESSAGE,
            address=clean_text(chat.get("id")),
            name=name or clean_text(chat.get("title")) or clean_text(sender.get("username")),
            phone=_phone(contact.get("phone_number")),
            text=clean_text(message.get("text") or message.get("caption"), TEXT_LIMIT),
            at=_epoch(message.get("date")),
            provider_id=f"{clean_text(chat.get('id'))}:{clean_text(message.get('message_id'))}",
            media=media,
        )
    ]


def _file(item: dict, name: str, kind: str) -> dict:
    return {
        "ref": clean_text(item.get("file_id")),
        "name": clean_text(item.get("file_name")) or name,
        "type": clean_text(item.get("mime_type")) or kind,
    }


# --- WhatsApp ------------------------------------------------------------------------------


def _whatsapp(data) -> list[ChatSignal]:
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise Refused(_("“entry” is missing."))
    signals = []
    for entry in data["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                signals.extend(_whatsapp_value(value))
    return signals


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _whatsapp_value(value: dict) -> list[ChatSignal]:
    names = {
        clean_text(c.get("wa_id")): clean_text(_dict(c.get("profile")).get("name"))
        for c in _list(value.get("contacts"))
        if isinstance(c, dict)
    }
    signals = []
    for message in _list(value.get("messages")):
        if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
            raise Refused(_("A message has no “id” or “from”."))
        sender, kind = clean_text(message["from"]), clean_text(message.get("type"))
        text, media = clean_text(_dict(message.get("text")).get("body"), TEXT_LIMIT), []
        part = (
            message.get(kind)
            if kind in ("image", "document", "audio", "video", "sticker")
            else None
        )
        if isinstance(part, dict) and part.get("id"):
            default = {"image": "image.jpg", "audio": "voice.ogg", "video": "video.mp4",
                       "sticker": "sticker.webp"}.get(kind, "document")  # fmt: skip
            media.append({
                "ref": clean_text(part["id"]),
                "name": clean_text(part.get("filename")) or default,
                "type": clean_text(part.get("mime_type")) or "application/octet-stream",
            })  # fmt: skip
            text = text or clean_text(part.get("caption"), TEXT_LIMIT)
        if kind == "button":
            text = clean_text(_dict(message.get("button")).get("text"), TEXT_LIMIT)
        if kind == "location" and isinstance(message.get("location"), dict):
            where = message["location"]
            text = f"📍 {clean_text(where.get('latitude'))}, {clean_text(where.get('longitude'))}"
        signals.append(
            ChatSignal(
                key=f"m:{clean_text(message['id'])}",
                kind=MESSAGE,
                address=_phone(sender) or sender,
                name=names.get(sender, ""),
                phone=_phone(sender),
                text=text or ("" if media else _("(a message of a kind Accord does not show)")),
                at=_epoch(message.get("timestamp")),
                provider_id=clean_text(message["id"]),
                media=media,
            )
        )
    for status in _list(value.get("statuses")):
        if not isinstance(status, dict) or not status.get("id"):
            raise Refused(_("A status has no “id”."))
        errors = status.get("errors") if isinstance(status.get("errors"), list) else []
        said = clean_text(status.get("status"))
        signals.append(
            ChatSignal(
                key=f"s:{clean_text(status['id'])}:{said}",
                kind=STATUS,
                provider_id=clean_text(status["id"]),
                status=said if said in (DELIVERED, READ, FAILED, SENT) else "",
                error="; ".join(
                    clean_text(e.get("title") or e.get("message"))
                    for e in errors
                    if isinstance(e, dict)
                ),
                at=_epoch(status.get("timestamp")),
            )
        )
    return signals


# --- Twilio --------------------------------------------------------------------------------

TWILIO_STATUSES = {"delivered": DELIVERED, "read": READ, "sent": SENT,
                   "failed": FAILED, "undelivered": FAILED}  # fmt: skip


def _twilio(params: dict) -> ChatSignal:
    sid = clean_text(params.get("MessageSid") or params.get("SmsSid"))
    if not sid:
        raise Refused(_("“MessageSid” is missing."))
    if "Body" not in params:  # a status callback about a message of ours
        said = clean_text(params.get("MessageStatus") or params.get("SmsStatus"))
        return ChatSignal(
            key=f"s:{sid}:{said}",
            kind=STATUS,
            provider_id=sid,
            status=TWILIO_STATUSES.get(said, ""),
            error=clean_text(params.get("ErrorMessage") or params.get("ErrorCode")),
        )
    sender = clean_text(params.get("From"))
    if not sender:
        raise Refused(_("“From” is missing."))
    media = []
    for index in range(min(_count(params.get("NumMedia")), 10)):
        ref = clean_text(params.get(f"MediaUrl{index}"), 1000)
        if ref.startswith("https://"):
            kind = clean_text(params.get(f"MediaContentType{index}")) or "application/octet-stream"
            media.append({"ref": ref, "name": f"file-{index + 1}", "type": kind})
    return ChatSignal(
        key=f"m:{sid}",
        kind=MESSAGE,
        address=_phone(sender) or sender,
        phone=_phone(sender),
        text=clean_text(params.get("Body"), TEXT_LIMIT),
        provider_id=sid,
        media=media,
    )


# --- Any HTTP gateway ------------------------------------------------------------------------


def _gateway_one(item) -> ChatSignal:
    if not isinstance(item, dict):
        raise Refused(_("Each message is a JSON object."))
    ident = clean_text(item.get("id"))
    if not ident:
        raise Refused(_("“id” is missing."))
    if item.get("status") is not None:
        said = clean_text(item.get("status"))
        if said not in (DELIVERED, READ, FAILED, SENT):
            raise Refused(_("“status” must be one of: delivered, read, failed, sent."))
        return ChatSignal(
            key=f"s:{ident}:{said}",
            kind=STATUS,
            provider_id=ident,
            status=said,
            error=clean_text(item.get("error")),
        )
    sender = clean_text(item.get("from"))
    if not sender:
        raise Refused(_("“from” is missing."))
    text = item.get("text")
    if not isinstance(text, str):
        raise Refused(_("“text” is missing."))
    return ChatSignal(
        key=f"m:{ident}",
        kind=MESSAGE,
        address=_phone(sender) or sender,
        phone=_phone(sender),
        text=clean_text(text, TEXT_LIMIT),
        at=read_moment(item.get("at")),
        provider_id=ident,
    )


# --- Sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A message to send: to whom (a chat id or a number), what, and for WhatsApp outside
    its 24-hour window, the approved template instead of the text."""

    address: str
    text: str
    template: dict | None = None  # {"name", "language"}
    status_url: str = ""  # where the provider reports delivery (Twilio)


def send(messenger, out: Outgoing, *, token: str) -> str:
    """Send one message; the provider's id for it, else http.Refused or http.Failed."""
    provider = messenger.provider
    if provider == "telegram":
        answer = http.send(
            "POST",
            f"{_telegram_api(token)}/sendMessage",
            body=_dumps({"chat_id": out.address, "text": out.text}),
            headers={"Content-Type": "application/json"},
        )
        result = _loads(answer.body).get("result") or {}
        return f"{out.address}:{result.get('message_id', '')}"
    if provider == "whatsapp":
        payload = {"messaging_product": "whatsapp", "to": out.address.lstrip("+")}
        if out.template:
            language = {"code": out.template["language"]}
            payload |= {
                "type": "template",
                "template": {"name": out.template["name"], "language": language},
            }
        else:
            payload |= {"type": "text", "text": {"body": out.text}}
        answer = http.send(
            "POST",
            f"{settings.ACCORD_WHATSAPP_API.rstrip('/')}/{quote(messenger.account)}/messages",
            body=_dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        found = _loads(answer.body).get("messages") or [{}]
        return clean_text(found[0].get("id") if isinstance(found[0], dict) else "")
    if provider == "twilio_sms":
        fields = {"To": out.address, "From": messenger.sender, "Body": out.text}
        if out.status_url:
            fields["StatusCallback"] = out.status_url
        account = quote(messenger.account)
        answer = http.send(
            "POST",
            f"{settings.ACCORD_TWILIO_API.rstrip('/')}/2010-04-01/Accounts/{account}/Messages.json",
            body=urlencode(fields).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": _basic(messenger.account, token),
            },
        )
        return clean_text(_loads(answer.body).get("sid"))
    return _gateway_send(messenger, out, token)


def _gateway_send(messenger, out: Outgoing, token: str) -> str:
    values = {"to": out.address, "text": out.text, "from": messenger.sender, "key": token}
    method = messenger.gateway_method
    if method == messenger.GET:
        url, body, headers = _fill(messenger.gateway_url, values, quote), b"", {}
    else:
        url = _fill(messenger.gateway_url, values, quote)
        escape = (
            (lambda v: json.dumps(v, ensure_ascii=False)[1:-1])
            if method == messenger.POST_JSON
            else quote
        )
        body = _fill(messenger.gateway_body, values, escape).encode()
        kind = (
            "application/json"
            if method == messenger.POST_JSON
            else "application/x-www-form-urlencoded"
        )
        headers = {"Content-Type": kind}
    answer = http.send(
        "GET" if method == messenger.GET else "POST", url, body=body, headers=headers
    )
    said = _loads(answer.body)
    return clean_text(said.get("id") or said.get("message_id") or said.get("sid"))


def _fill(template: str, values: dict, escape) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", escape(value))
    return template


def gateway_template_problems(url: str, method: str, body: str) -> list[str]:
    """What is wrong with a gateway's description, on the form."""
    problems = http.check_url(url.replace("{", "").replace("}", ""))
    where = url if method == "get" else url + body
    for needed in ("{to}", "{text}"):
        if needed not in where:
            problems.append(_("Put %(field)s where the gateway expects it.") % {"field": needed})
    if method == "json" and body:
        probe = _fill(body, {"to": "1", "text": "x", "from": "", "key": ""}, lambda v: v)
        try:
            json.loads(probe)
        except ValueError:
            problems.append(_("The body is not JSON once the fields are filled in."))
    return problems


def fetch_media(messenger, ref: str, *, token: str) -> tuple[bytes, str]:
    """A received file's content and type (http.Refused or http.Failed)."""
    provider = messenger.provider
    if provider == "telegram":
        answer = http.send(
            "POST",
            f"{_telegram_api(token)}/getFile",
            body=_dumps({"file_id": ref}),
            headers={"Content-Type": "application/json"},
        )
        path = (_loads(answer.body).get("result") or {}).get("file_path") or ""
        base = settings.ACCORD_TELEGRAM_API.rstrip("/")
        return http.get_file(f"{base}/file/bot{token}/{path}", limit=MEDIA_LIMIT)
    if provider == "whatsapp":
        bearer = {"Authorization": f"Bearer {token}"}
        content, _kind = http.get_file(
            f"{settings.ACCORD_WHATSAPP_API.rstrip('/')}/{quote(ref, safe='')}", headers=bearer
        )
        url = _loads(content.decode(errors="replace")).get("url") or ""
        return http.get_file(url, headers=bearer, limit=MEDIA_LIMIT)
    if provider == "twilio_sms":
        host, twilio = (urlsplit(ref).hostname or "").lower(), settings.ACCORD_TWILIO_HOST
        if host != twilio and not host.endswith("." + twilio):  # the account's key: Twilio's
            raise http.Refused(_("A file not on Twilio's servers is not fetched."))
        return http.get_file(
            ref, headers={"Authorization": _basic(messenger.account, token)}, limit=MEDIA_LIMIT
        )
    raise http.Refused(_("This connection does not fetch files."))


def set_webhook(messenger, *, token: str, url: str) -> None:
    """Tell Telegram where to post the bot's updates, with our secret token."""
    http.send(
        "POST",
        f"{_telegram_api(token)}/setWebhook",
        body=_dumps(
            {
                "url": url,
                "secret_token": messenger.webhook_secret,
                "allowed_updates": ["message"],
            }
        ),
        headers={"Content-Type": "application/json"},
    )


def _telegram_api(token: str) -> str:
    return f"{settings.ACCORD_TELEGRAM_API.rstrip('/')}/bot{token}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- SMS length ----------------------------------------------------------------------------

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # characters as the network counts them
    parts: int  # SMS segments billed

    @property
    def per_part(self) -> int:
        if self.encoding == "GSM-7":
            return 160 if self.parts <= 1 else 153
        return 70 if self.parts <= 1 else 67


def sms_length(text: str) -> SmsLength:
    """How many SMS a text takes: GSM-7 (160 a part, 153 when split; ^{}\\[~]|€ count
    two) unless a character is outside it, then UCS-2 (70, 67 when split; a character
    beyond the BMP, an emoji, counts two)."""
    if all(c in GSM7 or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, split, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, split, encoding = 70, 67, "UCS-2"
    parts = 0 if units == 0 else 1 if units <= single else -(-units // split)
    return SmsLength(encoding=encoding, units=units, parts=parts)


# --- Reading values ------------------------------------------------------------------------


def _json(body: bytes):
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") fails
    except UnicodeEncodeError:
        raise Refused(_("The body holds a character that is not valid Unicode.")) from None
    except (ValueError, RecursionError):
        raise Refused(_("The body is not JSON.")) from None
    return data


def _loads(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _dumps(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _count(value) -> int:
    text = clean_text(value)
    return int(text) if text.isdecimal() and len(text) < 4 else 0


def _phone(value) -> str:
    """A number in E.164, or "" (a messenger's numbers come with their country code)."""
    text = clean_text(value, 40)
    if not text:
        return ""
    try:
        return normalize_phone(text if text.startswith("+") else f"+{text}")
    except PhoneError:
        return ""


def _epoch(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdecimal():
        return ""
    try:
        return datetime.datetime.fromtimestamp(int(value), datetime.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return ""
