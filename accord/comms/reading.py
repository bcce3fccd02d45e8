"""Reading a received e-mail (RFC 5322 bytes) into what Accord keeps: its Message-ID (or
a stable one made from its headers), who wrote it to whom, its subject, its text and
sanitised HTML, its attachments checked by content, the thread it answers, and whether it
is an automatic reply or a delivery report (a bounce) — all without ever raising: a part
that cannot be read is kept as well as it can be, and what went wrong is said in words."""

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accord.comms import bodies, bounces
from accord.comms.attachments import MAX_FILES, kind_of, safe_name
from accord.comms.bounces import Failure

MAX_ADDRESSES = 100
MAX_TEXT = 100_000
MAX_HTML = 500_000
# What counts as an automatic reply (RFC 3834 and the headers mail servers use instead).
AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk", "list"}
ID = re.compile(r"<[^<>\s]{1,250}>")
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
PARSER = BytesParser()  # made once: building one cost as much as reading a short message


@dataclass
class Attachment:
    name: str
    content_type: str
    content: bytes


@dataclass
class Read:
    message_id: str
    from_name: str = ""
    from_address: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str = ""
    date: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    auto_reply: bool = False
    bounce: bool = False
    failures: list[Failure] = field(default_factory=list)
    bounced_id: str = ""  # the Message-ID of our message a delivery report is about
    size: int = 0

    @property
    def recipients(self) -> list[str]:
        """Whom it was written to (To and Cc), lower-cased, once."""
        return list(dict.fromkeys(a.lower() for a in [*self.to, *self.cc] if a))

    @property
    def addresses(self) -> list[str]:
        """Every address it names, lower-cased, once."""
        return list(dict.fromkeys(a.lower() for a in [self.from_address, *self.to, *self.cc] if a))


def read(raw: bytes, *, too_large: int = 0) -> Read:
    """What the message says. `too_large`: only its headers were fetched, because the
    whole weighs this many bytes (over ACCORD_EMAIL_RAW_MAX_MB)."""
    try:
        # The compat32 policy: its headers are decoded here, at a tenth of the cost of the
        # default policy's header objects (most of a fetch's time went on them).
        mail = PARSER.parsebytes(raw)
    except Exception as error:  # the parser is lenient; this is for the truly broken
        return Read(
            message_id=_synthetic({"raw": raw[:4096].decode("latin-1")}),
            text=raw[:MAX_TEXT].decode("utf-8", "replace"),
            problems=[_("The message could not be read (%(error)s).") % {"error": error}],
            size=len(raw),
        )
    problems: list[str] = []
    found = Read(message_id="", size=too_large or len(raw))
    found.subject = _plain(_header(mail, "subject", problems))[:300]
    found.from_name, found.from_address = _sender(mail, problems)
    found.to = _addresses(mail, "to", problems)
    found.cc = _addresses(mail, "cc", problems)
    found.date = _date(mail)
    found.message_id = _one_id(_header(mail, "message-id", problems)) or _synthetic(
        {name: _header(mail, name, []) for name in ("from", "to", "cc", "date", "subject")}
    )
    found.in_reply_to = _one_id(_header(mail, "in-reply-to", problems))
    found.references = ID.findall(_header(mail, "references", problems))[-20:]
    found.auto_reply = is_auto_reply(mail)
    if too_large:
        problems.append(
            _("The message weighs %(size)s, over the %(limit)s MB Accord fetches: only its "
              "headers were read.")
            % {"size": filesizeformat(too_large), "limit": settings.ACCORD_EMAIL_RAW_MAX_MB}
        )  # fmt: skip
    else:
        _body(mail, found, problems)
        if mail.get_content_type() == "multipart/report":
            _report(mail, found, problems)
        if not found.bounce:
            _text_report(mail, found, problems)
    defects = {type(d).__name__ for part in _parts(mail) for d in getattr(part, "defects", [])}
    if defects:
        problems.append(
            _("The message's structure is broken (%(defects)s); what could be read is kept.")
            % {"defects": ", ".join(sorted(defects))[:200]}
        )
    found.problems = list(dict.fromkeys(problems))
    return found


def is_auto_reply(mail) -> bool:
    auto = str(mail.get("auto-submitted", "") or "").strip().lower()
    precedence = str(mail.get("precedence", "") or "").strip().lower()
    return bool(
        (auto and auto != "no")
        or precedence in AUTO_PRECEDENCE
        or any(mail.get(name) is not None for name in
               ("x-autoreply", "x-autorespond", "x-auto-response-suppress"))
    )  # fmt: skip


# --- headers ---------------------------------------------------------------------------


def _header(mail, name: str, problems: list[str]) -> str:
    """A header's decoded text, unfolded ("" when absent)."""
    value = mail.get(name)
    if value is None:
        return ""
    value = re.sub(r"\r?\n[ \t]*", " ", str(value))
    if "=?" not in value:
        return _clean(value)
    try:
        return _clean(str(make_header(decode_header(value))))
    except Exception:  # an unknown charset, a broken encoded word: kept as it came
        problems.append(_("The header %(name)s could not be decoded.") % {"name": name})
        return _clean(value)


def _clean(value: str) -> str:
    """Text a database can hold: no NUL, no lone surrogate."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _plain(value: str) -> str:
    """One line: a CR, LF or other control character (a header injection) becomes a space."""
    return CONTROL.sub(" ", value).strip()


def _sender(mail, problems: list[str]) -> tuple[str, str]:
    found = _pairs(_raw(mail, "from"), problems)
    if not found:
        return "", ""
    name, address = found[0]
    return _plain(name)[:100], address


def _addresses(mail, name: str, problems: list[str]) -> list[str]:
    return [address for _name, address in _pairs(_raw(mail, name), problems)]


def _raw(mail, name: str) -> str:
    """An address header as it came, unfolded (its names are decoded one by one: a name
    that decodes to a comma must not split the list)."""
    values = mail.get_all(name) or []
    return _clean(", ".join(re.sub(r"\r?\n[ \t]*", " ", str(v)) for v in values))


def _pairs(value: str, problems: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not value:
        return found
    for name, address in getaddresses([value]):
        address = address.strip().lower()
        if not address:
            continue
        if CONTROL.search(address) or len(address) > 254:
            problems.append(_("An address with a line break was left out."))
            continue
        try:
            validate_email(address)
        except ValidationError:
            problems.append(_("Not an e-mail address, left out: %(address)s")
                            % {"address": _plain(address)[:100]})  # fmt: skip
            continue
        if address not in {a for _n, a in found}:
            found.append((_decoded(name), address))
    return found[:MAX_ADDRESSES]


def _decoded(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return _clean(str(make_header(decode_header(value))))
    except Exception:
        return value


def _date(mail) -> datetime | None:
    try:
        value = parsedate_to_datetime(str(mail.get("date", "") or ""))
    except Exception:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _one_id(value: str) -> str:
    found = ID.search(value or "")
    return _plain(found.group(0)) if found else ""


def _synthetic(headers: dict[str, str]) -> str:
    """A stable Message-ID for a message that has none: the same headers give the same id
    in every mailbox and on every fetch."""
    digest = hashlib.sha256(repr(sorted(headers.items())).encode("utf-8", "replace"))
    return f"<{digest.hexdigest()[:40]}@no-message-id.accord>"


# --- the body ------------------------------------------------------------------------------


def _body(mail, found: Read, problems: list[str]) -> None:
    text = html = ""
    for part in _parts(mail, problems):
        try:
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            disposition = part.get_content_disposition()
            if kind in ("message/delivery-status", "text/rfc822-headers"):
                continue
            if disposition != "attachment" and kind == "text/plain" and not text:
                text = _text_of(part, problems)
            elif disposition != "attachment" and kind == "text/html" and not html:
                html = _text_of(part, problems)
            elif (
                disposition == "attachment"
                or part.get_filename()
                or kind.startswith(("application/", "image/", "audio/", "video/"))
            ):
                _attachment(part, found, problems)
        except Exception as error:
            problems.append(_("A part could not be read (%(error)s).") % {"error": error})
    if len(text) > MAX_TEXT or len(html) > MAX_HTML:
        problems.append(_("The text is very long; its beginning is kept."))
    html = bodies.clean(html[:MAX_HTML]) if html.strip() else ""
    text = _clean(text[:MAX_TEXT]).replace("\r\n", "\n").strip("\n")
    if html and not text.strip():
        text = bodies.to_text(html)
    elif text and not html:
        html = bodies.from_text(text)
    found.text, found.html = text, _clean(html)


def _parts(mail, problems: list[str] | None = None) -> list:
    try:
        return list(mail.walk())
    except Exception as error:
        if problems is not None:
            problems.append(
                _("The message's parts could not be read (%(error)s).") % {"error": error}
            )
        return [mail]


def _text_of(part: Message, problems: list[str]) -> str:
    payload = part.get_payload(decode=True) or b""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:  # a charset Python does not know
        problems.append(
            _("The text is in an unknown character set (%(charset)s); it is shown as UTF-8.")
            % {"charset": _plain(charset)[:40]}
        )
        charset = "utf-8"
    return _clean(payload.decode(charset, "replace"))


def _attachment(part: Message, found: Read, problems: list[str]) -> None:
    name = safe_name(_plain(_decoded(_clean(part.get_filename() or ""))) or "attachment")
    content = part.get_payload(decode=True) or b""
    limit = settings.ACCORD_EMAIL_ATTACHMENTS_MB * 1024 * 1024
    reason = ""
    if len(found.attachments) >= MAX_FILES:
        reason = _("a message keeps at most %(count)s files.") % {"count": MAX_FILES}
    elif not content:
        reason = _("it is empty.")
    elif len(content) > limit:
        reason = _("it weighs %(size)s, over the %(limit)s MB a file may.") % {
            "size": filesizeformat(len(content)),
            "limit": settings.ACCORD_EMAIL_ATTACHMENTS_MB,
        }
    else:
        content_type, reason = kind_of(name, content[:8192])
    if reason:
        problems.append(_("“%(name)s” was not kept: %(reason)s") % {"name": name, "reason": reason})
        return
    found.attachments.append(Attachment(name, content_type, content))


# --- delivery reports --------------------------------------------------------------------


def _report(mail, found: Read, problems: list[str]) -> None:
    """A delivery report (RFC 3464): the recipients it failed for, and the Message-ID of
    the message it returns (in its message/rfc822 or text/rfc822-headers part)."""
    if str(mail.get_param("report-type", "", header="content-type")).lower() != "delivery-status":
        return
    found.bounce = True
    for part in mail.walk():
        try:
            if part.get_content_type() == "message/delivery-status":
                found.failures.extend(_failures(part))
        except Exception as error:
            problems.append(_("The delivery report could not be read (%(error)s).")
                            % {"error": error})  # fmt: skip
    found.bounced_id = _returned_id(mail, problems)


def _text_report(mail, found: Read, problems: list[str]) -> None:
    """A delivery report written as text (bounces.py): which addresses failed, how, and
    the message it returns."""
    return_path = _header(mail, "return-path", []).replace(" ", "")
    if not bounces.is_report(found.from_address, found.from_name, return_path, found.subject,
                             found.text):  # fmt: skip
        return
    found.bounce = True
    ours = {found.from_address, *found.to, *found.cc}
    try:
        found.failures = bounces.failures(found.text, ours=ours)
    except Exception as error:  # never: but a report must not stop the fetch
        problems.append(_("The delivery report could not be read (%(error)s).")
                        % {"error": error})  # fmt: skip
    found.bounced_id = _returned_id(mail, problems) or bounces.bounced_id(found.text)


def _returned_id(mail, problems: list[str]) -> str:
    """The Message-ID of the message a report returns, from its copy attached whole
    (message/rfc822) or by its headers (text/rfc822-headers)."""
    for part in mail.walk():
        kind = part.get_content_type()
        try:
            if kind == "message/rfc822":
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                found = _one_id(str(inner.get("message-id", "") or ""))
            elif kind == "text/rfc822-headers":
                headers = message_from_bytes(part.get_payload(decode=True) or b"")
                found = _one_id(str(headers.get("message-id", "") or ""))
            else:
                continue
        except Exception as error:
            problems.append(_("The delivery report could not be read (%(error)s).")
                            % {"error": error})  # fmt: skip
            continue
        if found:
            return found
    return ""


def _failures(part) -> list[Failure]:
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        blocks = [message_from_bytes(part.get_payload(decode=True) or b"")]
    failures = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:  # the first is about the report
        action = str(block.get("action", "") or "").strip().lower()
        recipient = str(block.get("final-recipient", "") or block.get("original-recipient", ""))
        address = recipient.rpartition(";")[2].strip().strip("<>").lower()
        status = _plain(str(block.get("status", "") or ""))[:20]
        # Failed, or delayed (the server goes on trying: only said on our message).
        delayed = action == "delayed" and status.startswith("4")
        if not (action == "failed" or delayed) or not address:
            continue
        diagnostic = _plain(str(block.get("diagnostic-code", "") or ""))
        diagnostic = diagnostic.partition(";")[2].strip() or diagnostic
        failures.append(Failure(address, status, diagnostic[:500]))
    return failures
