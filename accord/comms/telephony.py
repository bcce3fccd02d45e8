"""What a PBX's webhook says, read into signals: one adapter per provider checks the
delivery's signature and turns its payload into `Signal`s, the same whatever the
provider (services/calls.py does the rest); and where a call's recording is fetched
from. No database here.

- generic: Accord's own JSON format (docs/api.md), signed with HMAC-SHA256 of the body
  under the connection's secret (`X-Accord-Signature: sha256=<hex>`);
- Zadarma: its notifications (NOTIFY_START, NOTIFY_ANSWER, NOTIFY_END, NOTIFY_OUT_START,
  NOTIFY_OUT_END, NOTIFY_RECORD), form-encoded, signed in `Signature` with base64 of the
  hex HMAC-SHA1 of some of their fields under the API secret, as Zadarma documents it;
- Twilio: its voice status callbacks and recording status callbacks, form-encoded,
  signed in `X-Twilio-Signature` (HMAC-SHA1 of the address and the sorted parameters
  under the auth token).
"""

import base64
import datetime
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accord.core import http
from accord.core.company import default_time_zone

RINGING, ANSWERED, ENDED, RECORDING = "ringing", "answered", "ended", "recording"
KINDS = (RINGING, ANSWERED, ENDED, RECORDING)
LIMIT = 200  # characters of any one value we keep


class Refused(Exception):
    """A delivery we do not take: `status` 403 (signature) or 400 (payload), and why."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class Signal:
    """One thing a provider said about a call, in Accord's words."""

    key: str  # unique per connection: a repeat of the event has the same key
    call_id: str
    kind: str  # RINGING, ANSWERED, ENDED, RECORDING
    direction: str = ""  # "in", "out" or "" (not said: a recording)
    number: str = ""  # the client's number, as the provider gave it
    line: str = ""  # ours
    extension: str = ""
    at: str = ""  # when it happened, ISO 8601 with its offset ("": when it came)
    started: str = ""  # when the call began, where the provider says so in every event
    duration: int | None = None  # seconds of talk (ENDED)
    answered: bool | None = None  # ENDED: whether anyone talked
    disposition: str = ""
    recording: str = ""

    def as_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict) -> "Signal":
        return cls(**payload)


def read(provider: str, secret: str, *, body: bytes, headers, form, url: str = "") -> list[Signal]:
    """The signals of one delivery, or Refused (`url`: the address it was sent to, as the
    provider saw it — Twilio signs it)."""
    if provider == "zadarma":
        return [_zadarma(secret, form, headers.get("Signature", ""))]
    if provider == "twilio":
        return _twilio(secret, form, url, headers.get("X-Twilio-Signature", ""))
    return _generic(secret, body, headers.get("X-Accord-Signature", ""))


# --- Accord's JSON format ----------------------------------------------------------------


def generic_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _generic(secret: str, body: bytes, signature: str) -> list[Signal]:
    if not secret or not same_secret(generic_signature(secret, body), signature):
        raise Refused(_("The signature does not match the connection's secret."), 403)
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") fails
    except UnicodeEncodeError:  # before ValueError, which it is
        raise Refused(_("The body holds a character that is not valid Unicode.")) from None
    except (ValueError, RecursionError):  # RecursionError: [[[[… nested past the stack
        raise Refused(_("The body is not JSON.")) from None
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > 100:
        raise Refused(_("Send from 1 to 100 events at a time."))
    return [_generic_one(item) for item in items]


def _generic_one(item) -> Signal:
    if not isinstance(item, dict):
        raise Refused(_("Each event is a JSON object."))
    call_id, kind = clean_text(item.get("call_id")), clean_text(item.get("event"))
    if not call_id:
        raise Refused(_("“call_id” is missing."))
    if kind == "missed":  # a shorthand: ended, nobody answered
        item = {**item, "answered": False}
        kind = ENDED
    if kind not in KINDS:
        raise Refused(_("“event” must be one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)})
    direction = clean_text(item.get("direction"))
    if direction not in ("in", "out", "") or (kind != RECORDING and not direction):
        raise Refused(_("“direction” must be “in” or “out”."))
    number = clean_text(item.get("from") if direction == "in" else item.get("to"))
    line = clean_text(item.get("to") if direction == "in" else item.get("from"))
    if kind != RECORDING and not number:
        raise Refused(_("The client's number (“from” of an incoming call) is missing."))
    duration = item.get("duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration < 86_400
    ):
        raise Refused(_("“duration” is whole seconds, under a day."))
    answered = item.get("answered")
    if answered is not None and not isinstance(answered, bool):
        raise Refused(_("“answered” is true or false."))
    if kind == ENDED and answered is None and duration is not None:
        answered = duration > 0  # neither said: unknown, the call's own "answered" decides
    recording = clean_text(item.get("recording_url"), 1000)
    if recording and not recording.startswith(("https://", "http://")):
        raise Refused(_("“recording_url” must be an http(s) address."))
    return Signal(
        key=f"{call_id}:{kind}:{clean_text(item.get('id'))}",
        call_id=call_id,
        kind=kind,
        direction=direction,
        number=number,
        line=line,
        extension=clean_text(item.get("extension")),
        at=read_moment(item.get("at")),
        duration=duration if kind == ENDED else None,
        answered=answered if kind == ENDED else None,
        disposition=clean_text(item.get("disposition"), 40),
        recording=recording,
    )


# --- Zadarma -----------------------------------------------------------------------------

ZADARMA_SIGNED = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}


def zadarma_signature(secret: str, text: str) -> str:
    """base64 of the hex digest (Zadarma's PHP: base64_encode(hash_hmac('sha1', …)))."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def _zadarma(secret: str, form, signature: str) -> Signal:
    event = clean_text(form.get("event"))
    if event not in ZADARMA_SIGNED:
        raise Refused(_("Zadarma's event “%(event)s” is not one Accord reads.") % {"event": event})
    signed = "".join(form.get(name, "") for name in ZADARMA_SIGNED[event])
    if not secret or not same_secret(zadarma_signature(secret, signed), signature):
        raise Refused(_("The signature does not match the connection's secret."), 403)
    call_id = clean_text(form.get("pbx_call_id"))
    if not call_id:
        raise Refused(_("“pbx_call_id” is missing."))
    if event == "NOTIFY_RECORD":
        return Signal(
            key=f"{call_id}:{event}",
            call_id=call_id,
            kind=RECORDING,
            recording=clean_text(form.get("call_id_with_rec")),
        )
    outgoing = event.startswith("NOTIFY_OUT")
    kind = {"NOTIFY_ANSWER": ANSWERED, "NOTIFY_END": ENDED, "NOTIFY_OUT_END": ENDED}.get(
        event, RINGING
    )
    number = clean_text(form.get("destination") if outgoing else form.get("caller_id"))
    if not number:
        raise Refused(_("The client's number is missing."))
    disposition = clean_text(form.get("disposition"), 40)
    duration = _int(form.get("duration")) if kind == ENDED else None
    return Signal(
        key=f"{call_id}:{event}",
        call_id=call_id,
        kind=kind,
        direction="out" if outgoing else "in",
        number=number,
        line=clean_text(form.get("caller_id") if outgoing else form.get("called_did")),
        extension=clean_text(form.get("internal") or (form.get("destination") if kind == ANSWERED
                                                  else "")),
        started=_zadarma_time(form.get("call_start")),
        duration=duration,
        answered=(disposition == "answered") if kind == ENDED else None,
        disposition=disposition,
        recording=clean_text(form.get("call_id_with_rec"))
        if form.get("is_recorded") == "1" else "",
    )  # fmt: skip


# --- Twilio ------------------------------------------------------------------------------

TWILIO_ENDED = {"completed", "busy", "no-answer", "canceled", "failed"}


def twilio_signature(auth_token: str, url: str, params: dict) -> str:
    """base64 of the HMAC-SHA1 of the address and the sorted parameters (name then value),
    under the account's auth token, as Twilio documents it."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _twilio(secret: str, form, url: str, signature: str) -> list[Signal]:
    params = {name: form.get(name, "") for name in form}
    if not secret or not same_secret(twilio_signature(secret, url, params), signature):
        raise Refused(_("The signature does not match the connection's secret."), 403)
    call_id = clean_text(params.get("CallSid"))
    if not call_id:
        raise Refused(_("“CallSid” is missing."))
    if params.get("RecordingSid"):
        if params.get("RecordingStatus", "completed") != "completed":
            raise Refused(_("The recording is not ready: %(status)s") % {
                "status": clean_text(params.get("RecordingStatus"), 40)})  # fmt: skip
        return [Signal(
            key=f"{call_id}:recording:{clean_text(params['RecordingSid'])}",
            call_id=call_id,
            kind=RECORDING,
            recording=clean_text(params.get("RecordingUrl"), 1000),
        )]  # fmt: skip
    if params.get("DialCallStatus"):
        return _twilio_dialed(call_id, params)
    status = clean_text(params.get("CallStatus"), 40)
    kind = {"ringing": RINGING, "in-progress": ANSWERED, "queued": RINGING,
            "initiated": RINGING}.get(status, ENDED if status in TWILIO_ENDED else "")  # fmt: skip
    if not kind:
        raise Refused(_("Twilio's call status “%(status)s” is not one Accord reads.")
                      % {"status": status})  # fmt: skip
    parent = clean_text(params.get("ParentCallSid"))
    # A call Twilio took itself (an inbound leg running the number's TwiML) is "in
    # progress" once the TwiML runs and "completed" when it hangs up, whether or not any
    # person spoke: a person's answer is told by the leg <Dial> rings (its ParentCallSid).
    taken_by_twilio = not parent and params.get("Direction") == "inbound"
    if parent and kind == ENDED:
        return []  # a leg <Dial> rang is over; the call itself ends with its own callback
    if taken_by_twilio and kind == ANSWERED:
        kind = RINGING
    ends = _twilio_ends(params)
    if ends is None:
        return []  # a call between two of the team's phones: no client's
    outgoing, number, line, extension = ends
    # Twilio's own leg lasts from its pickup: the talk is from the answer to the end.
    duration = _int(params.get("CallDuration")) if kind == ENDED and not taken_by_twilio else None
    answered = None if taken_by_twilio else (status == "completed" and bool(duration))
    return [Signal(
        key=f"{clean_text(params.get('CallSid'))}:{status}",
        call_id=parent or call_id,  # the legs of one call are one call
        kind=kind,
        direction="out" if outgoing else "in",
        number=number,
        line=line,
        extension=extension,
        at=_twilio_time(params.get("Timestamp")),
        duration=duration,
        answered=answered if kind == ENDED else None,
        disposition=status if kind == ENDED else "",
    )]  # fmt: skip


def _twilio_dialed(call_id: str, params: dict) -> list[Signal]:
    """<Dial>'s action callback: whether the person it rang answered, and how long they
    talked (the call goes on to the number's next TwiML, or ends)."""
    if params.get("DialCallStatus") != "completed":
        return []  # nobody answered: the call's own "completed" ends it as missed
    ends = _twilio_ends(params)
    if ends is None:
        return []
    outgoing, number, line, extension = ends
    talk = _int(params.get("DialCallDuration"))
    return [Signal(
        key=f"{call_id}:dialed:{clean_text(params.get('DialCallSid'))}",
        call_id=call_id,
        kind=ANSWERED,
        direction="out" if outgoing else "in",
        number=number,
        line=line,
        extension=extension,
        at=(timezone.now() - datetime.timedelta(seconds=talk)).isoformat(),
    )]  # fmt: skip


def _twilio_ends(params: dict) -> tuple[bool, str, str, str] | None:
    """(outgoing, the client's number, our line, the extension) of a leg; None for a call
    between two of the team's phones. A softphone or SIP phone ("client:alice") is ours:
    a call from it is outgoing, a call to it incoming. Otherwise Twilio's Direction says
    ("outbound-…": we called). A leg <Dial> rang to a phone number reads as our call to
    it: right for a softphone's calls, wrong for an incoming call forwarded to a mobile
    (docs/api.md: there, <Dial>'s action callback tells the answer)."""
    caller, called = clean_text(params.get("From")), clean_text(params.get("To"))
    agent, reached = _twilio_agent(caller), _twilio_agent(called)
    if agent and reached:
        return None
    outgoing = bool(agent) or (
        clean_text(params.get("Direction")).startswith("outbound") and not reached
    )
    number = called if outgoing else caller
    if not number or _twilio_agent(number):
        raise Refused(_("The client's number is missing."))
    ours = caller if outgoing else called
    return outgoing, number, "" if _twilio_agent(ours) else ours, agent or reached


def _twilio_agent(address: str) -> str:
    """The person's identity in a Twilio Client ("client:alice") or SIP ("sip:101@…")
    address — their extension; "" for a phone number."""
    scheme, _colon, rest = address.partition(":")
    if scheme.lower() == "client":
        return rest[:30]
    if scheme.lower() == "sip":
        return rest.partition("@")[0][:30]
    return ""


def _twilio_time(value) -> str:
    """Twilio's `Timestamp` ("Sun, 06 Dec 2026 10:15:07 +0000"), ISO 8601; "" without."""
    try:
        moment = parsedate_to_datetime(clean_text(value)) if value else None
    except (TypeError, ValueError):
        return ""
    if moment is None:
        return ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).isoformat()


def _zadarma_time(text) -> str:
    """Zadarma's "2026-12-05 10:15:07", on the PBX's clock: the company's time zone."""
    try:
        moment = datetime.datetime.strptime(clean_text(text), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ""
    return moment.replace(tzinfo=ZoneInfo(default_time_zone())).isoformat()


def zadarma_api_headers(key: str, secret: str, method: str, params: dict) -> dict:
    """The `Authorization` of a Zadarma API call: key, then base64 of the hex HMAC-SHA1
    of the method, its sorted query and that query's MD5 (Zadarma's documented scheme)."""
    query = urlencode(sorted(params.items()))
    signed = method + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324 (theirs)
    return {"Authorization": f"{key}:{zadarma_signature(secret, signed)}"}


def recording_request(provider: str, recording: str, *, key: str, secret: str) -> tuple[str, dict]:
    """Where a call's recording can be fetched now, and the headers that fetch needs: a
    generic PBX's address as it gave it; Twilio's (its MP3) with the account's key; Zadarma's
    from its API (a link that lives a while); or Refused."""
    if provider == "twilio":
        address = recording if recording.endswith((".mp3", ".wav")) else f"{recording}.mp3"
        host, twilio = (urlsplit(address).hostname or "").lower(), settings.ACCORD_TWILIO_HOST
        if not (host == twilio or host.endswith("." + twilio)):
            return address, {}  # the account's key goes to Twilio only
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        return address, {"Authorization": f"Basic {token}"}
    if provider != "zadarma":
        return recording, {}
    answer = _zadarma_api(
        "/v1/pbx/record/request/", {"call_id": recording, "lifetime": "600"}, key, secret
    )
    link = answer.get("link") or next(iter(answer.get("links") or []), "")
    if answer.get("status") != "success" or not link:
        raise Refused(_("Zadarma has no recording: %(why)s") % {"why": answer.get("message", "")})
    return link, {}


def zadarma_callback(*, key: str, secret: str, extension: str, number: str) -> None:
    """Ask Zadarma to ring `extension` and, once picked up, call `number` (its callback
    request); Refused with Zadarma's reason, or core.http's Refused / Failed."""
    params = {"from": extension, "to": number.lstrip("+")}
    answer = _zadarma_api("/v1/request/callback/", params, key, secret)
    if answer.get("status") != "success":
        raise Refused(_("Zadarma did not place the call: %(why)s") % {
            "why": answer.get("message", "")})  # fmt: skip


def _zadarma_api(method: str, params: dict, key: str, secret: str) -> dict:
    """A signed GET of Zadarma's API, its JSON answer (Refused when it is none)."""
    body, _kind = http.get_file(
        f"{settings.ACCORD_ZADARMA_API.rstrip('/')}{method}?{urlencode(sorted(params.items()))}",
        headers=zadarma_api_headers(key, secret, method, params),
        limit=64 * 1024,
    )
    try:
        answer = json.loads(body)
    except ValueError:
        raise Refused(_("Zadarma's answer is not JSON.")) from None
    if not isinstance(answer, dict):
        raise Refused(_("Zadarma's answer is not JSON."))
    return answer


# --- values ------------------------------------------------------------------------------


def same_secret(expected: str, given: str) -> bool:
    """A signature compared in constant time, as bytes (a str with "é" would raise)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def clean_text(value, limit: int = LIMIT) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    text = str(value).strip().replace("\x00", "")
    return text[:limit]


def _int(value) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 0
    return number if 0 <= number < 86_400 else 0


def read_moment(value) -> str:
    if value in (None, ""):
        return ""
    try:
        moment = parse_datetime(clean_text(value)) if isinstance(value, str) else None
    except ValueError:  # well formed, but no such moment (month 13)
        moment = None
    if moment is None:
        raise Refused(_("“at” is a date and time in ISO 8601 (2026-12-05T10:15:00+02:00)."))
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(default_time_zone()))
    return moment.isoformat()
