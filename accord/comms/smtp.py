"""Talking to a mailbox's SMTP server: connect (TLS, STARTTLS or neither), log in, hand
over a message, and say what went wrong in words, with the server's own answer.

Handing over is split where a failure stops being safe to retry: everything up to the
server's "354 go ahead" has sent nothing, so a failure there is retried later; once the
message's bytes are on their way, a lost connection leaves it unknown whether the server
took it — the message is then not tried again by itself (at most once)."""

import contextlib
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.comms import tracking, unsubscribe
from accord.comms.models import NONE, STARTTLS, TLS
from accord.core.secrets import SecretUnreadable, unseal


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str
    password: str = ""

    @classmethod
    def of(cls, mailbox) -> "Server":
        """The mailbox's SMTP server, or, with no mailbox, ACCORD_EMAIL_URL's."""
        if mailbox is None:
            options = settings.MAILERS["default"]["OPTIONS"]
            security = (
                TLS if options.get("use_ssl") else STARTTLS if options.get("use_tls") else NONE
            )
            return cls(options["host"], int(options["port"]), security,
                       options.get("username", ""), options.get("password", ""))  # fmt: skip
        try:
            password = unseal(mailbox.smtp_password_sealed)
        except SecretUnreadable as error:
            raise MailError(str(error), temporary=False) from None
        return cls(mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security,
                   mailbox.smtp_username, password)  # fmt: skip

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"Server({self.host}:{self.port}, {self.security}, user={self.username!r})"


class MailError(Exception):
    """A failure in words. `temporary`: worth trying again later (a 4xx answer, a server
    away); `uncertain`: the message may have gone through all the same; `broken`: the
    connection is no good for another message (a refusal of one message leaves it good)."""

    def __init__(
        self, reason: str, *, temporary: bool, uncertain: bool = False, broken: bool = True
    ):
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary and not uncertain
        self.uncertain = uncertain
        self.broken = broken or uncertain


def timeout() -> float:
    return float(settings.ACCORD_EMAIL_TIMEOUT_SECONDS)


def connect(server: Server, *, seconds: float | None = None) -> smtplib.SMTP:
    """An open, logged-in connection; MailError says why there is none."""
    seconds = seconds or timeout()
    context = ssl.create_default_context()
    connection = None
    try:
        hostname = socket.gethostname()  # not getfqdn(): no DNS lookup before each connection
        if server.security == TLS:
            connection = smtplib.SMTP_SSL(
                server.host, server.port, local_hostname=hostname, timeout=seconds, context=context
            )
        else:
            connection = smtplib.SMTP(
                server.host, server.port, local_hostname=hostname, timeout=seconds
            )
        connection.ehlo()
        if server.security == STARTTLS:
            if not connection.has_extn("starttls"):
                raise MailError(
                    _("The server does not offer STARTTLS on this port: choose “TLS from the "
                      "start” (port 465) or check the port."),
                    temporary=False,
                )  # fmt: skip
            connection.starttls(context=context)
            connection.ehlo()
        if server.username:
            connection.login(server.username, server.password)
    except MailError:
        close(connection)
        raise
    except Exception as error:
        close(connection)
        raise explain(error, server, seconds) from None
    return connection


def send(connection: smtplib.SMTP, *, sender: str, recipients: list[str], data: bytes) -> dict:
    """Hand one message over; answers the recipients the server refused while taking it for
    the others ({address: "550 …"}). MailError when it took it for nobody."""
    try:
        code, answer = connection.mail(sender)
        if code != 250:
            raise _answered(_("The server refused the sender"), code, answer, broken=False)
        refused = {}
        for address in recipients:
            code, answer = connection.rcpt(address)
            if code not in (250, 251):
                refused[address] = (code, answer)
        if len(refused) == len(recipients):
            codes = {code for code, _answer in refused.values()}
            raise MailError(
                _("The server refused every recipient: %(list)s") % {"list": _listed(refused)},
                temporary=all(400 <= code < 500 for code in codes),
                broken=False,
            )
        code, answer = connection.docmd("data")
        if code != 354:
            raise _answered(_("The server would not take the message"), code, answer, broken=False)
    except MailError:
        _reset(connection)
        raise
    except Exception as error:
        raise explain(error, None, timeout()) from None
    try:  # from here on, the server may have the message whatever happens
        connection.send(_dot_stuffed(data))
        code, answer = connection.getreply()
    except Exception as error:
        raise MailError(
            _("The connection broke while the message was being handed over (%(error)s): "
              "it may have gone out.") % {"error": _plain(error)},
            temporary=False,
            uncertain=True,
        ) from None  # fmt: skip
    if code != 250:
        raise _answered(_("The server did not accept the message"), code, answer, broken=False)
    return {address: _said(code, answer) for address, (code, answer) in refused.items()}


def close(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except Exception:  # noqa: S110 (already gone: nothing left to close)
        pass
    finally:
        connection.close()


def explain(error: Exception, server: Server | None, seconds: float) -> MailError:
    """An exception met while talking to the server, in words with its own answer."""
    where = f"{server.host}:{server.port}" if server else _("the server")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return _answered(_("The server refused the login"), error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return MailError(
            _("The server does not offer a login here (%(error)s): on port 587 it usually "
              "needs STARTTLS first.") % {"error": _plain(error)},
            temporary=False,
        )  # fmt: skip
    if isinstance(error, smtplib.SMTPResponseException):
        return _answered(_("The server answered"), error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return MailError(
            _("The server closed the connection: %(error)s") % {"error": _plain(error)},
            temporary=True,
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return MailError(
            _("The server's certificate is not trusted (%(error)s).")
            % {"error": error.verify_message or _plain(error)},
            temporary=False,
        )
    if isinstance(error, ssl.SSLError):
        return MailError(
            _("The secure connection to %(where)s failed (%(error)s): check the security "
              "setting and the port.") % {"where": where, "error": error.reason or _plain(error)},
            temporary=False,
        )  # fmt: skip
    if isinstance(error, ConnectionRefusedError):
        return MailError(
            _("%(where)s refused the connection: nothing answers on that port.") % {"where": where},
            temporary=True,
        )
    if isinstance(error, socket.gaierror):
        return MailError(
            _("There is no server named %(host)s (%(error)s).")
            % {"host": server.host if server else "?", "error": error.strerror},
            temporary=True,
        )
    if isinstance(error, TimeoutError | socket.timeout):
        return MailError(
            _("%(where)s did not answer within %(seconds)s seconds.")
            % {"where": where, "seconds": int(seconds)},
            temporary=True,
        )
    if isinstance(error, OSError | smtplib.SMTPException):
        return MailError(
            _("Could not talk to %(where)s: %(error)s") % {"where": where, "error": _plain(error)},
            temporary=True,
        )
    raise error


def mime(message, attachments) -> EmailMessage:
    """The message as it goes out: a plain-text part and the HTML beside it, then the
    files. Bcc is never a header: its addresses are only the envelope's."""
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = Address(display_name=message.from_name, addr_spec=message.from_address)
    email["To"] = ", ".join(message.to)
    if message.cc:
        email["Cc"] = ", ".join(message.cc)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(timezone.now())
    email["Message-ID"] = message.message_id
    if message.in_reply_to:
        email["In-Reply-To"] = message.in_reply_to
    if message.references:
        email["References"] = message.references
    email["Auto-Submitted"] = "auto-generated" if message.rule_name else "no"
    if getattr(message, "marketing", False) and message.person_id and message.to:
        # RFC 8058: a mail program's "Unsubscribe" posts to this address, no login needed.
        link = unsubscribe.url(
            person_id=message.person_id,
            address=message.to[0],
            mailing_id=getattr(message, "mailing_id", None),
        )
        email["List-Unsubscribe"] = f"<{link}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.text or "\n")
    if message.html:
        email.add_alternative(tracking.html_for(message), subtype="html")
    for attachment in attachments:
        maintype, _slash, subtype = attachment.content_type.partition("/")
        with attachment.file.open("rb") as stream:
            email.add_attachment(
                stream.read(), maintype=maintype, subtype=subtype, filename=attachment.name
            )
    if email["List-Unsubscribe"]:
        # The address must reach mail programs whole: folded at 78 characters it would be
        # sent as encoded words, which they do not read. Headers may be 998 long.
        email.policy = policy.SMTP.clone(max_line_length=998)
    return email


UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
# Headers are not folded below the 998 characters a line may hold: a folded unsubscribe
# address reads back with a line break in front of it in some mail programs.
BULK_POLICY = policy.compat32.clone(max_line_length=998)


def mime_bulk(message) -> Message:
    """A mailing's message as it goes out (no files, no copies, no thread): the same
    headers and parts as `mime`, built with the standard library's older, plain message
    classes, a tenth of `mime`'s cost — a mailing builds thousands."""
    values = [message.from_name, message.from_address, message.subject, *message.to]
    if any("\r" in value or "\n" in value for value in values):
        raise MailError(_("A header cannot hold a line break."), temporary=False, broken=False)
    email = MIMEMultipart("alternative", policy=BULK_POLICY)
    email["From"] = formataddr((message.from_name, message.from_address), charset="utf-8")
    email["To"] = ", ".join(message.to)
    subject = message.subject
    email["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    email["Date"] = format_datetime(timezone.now())
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated" if message.rule_name else "no"
    if message.marketing and message.person_id and message.to:
        link = unsubscribe.url(
            person_id=message.person_id, address=message.to[0], mailing_id=message.mailing_id
        )
        email["List-Unsubscribe"] = f"<{link}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.attach(MIMEText(message.text or "\n", "plain", UTF8))
    if message.html:
        email.attach(MIMEText(tracking.html_for(message), "html", UTF8))
    return email


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA section as RFC 5321 wants it: CRLF lines, a leading dot doubled, and the
    lone dot that ends it (what smtplib's own sendmail does)."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reset(connection: smtplib.SMTP) -> None:
    """Ready the connection for the next message after a refused one."""
    with contextlib.suppress(Exception):  # a dead connection: the next message opens another
        connection.rset()


def _answered(what: str, code: int, answer, *, broken: bool = True) -> MailError:
    return MailError(f"{what}: {_said(code, answer)}", temporary=400 <= code < 500, broken=broken)


def _said(code: int, answer) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return f"{code} {' '.join(text.split())}".strip()


def _listed(refused: dict) -> str:
    return "; ".join(
        f"{address}: {_said(code, answer)}" for address, (code, answer) in refused.items()
    )


def _plain(error: Exception) -> str:
    return str(error) or type(error).__name__
