"""The mailbox page's "Test sending" and "Test receiving": a real conversation with each
server, answered in words — what it said when it worked, and its own answer when not."""

import contextlib
import imaplib
import socket
import ssl
from dataclasses import dataclass
from email.utils import make_msgid

from django.utils.translation import gettext as _
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError

from accord.comms import smtp
from accord.comms.models import STARTTLS, TLS, Mailbox
from accord.core.secrets import SecretUnreadable, unseal

TEST_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str


# Where mail programs keep sent mail, when the server does not mark the folder \\Sent.
SENT_NAMES = ("Sent", "Sent Items", "Sent Messages", "INBOX.Sent", "INBOX/Sent")


def test_sending(mailbox: Mailbox) -> Outcome:
    """Connect, log in and send a short message to the mailbox's own address."""
    connection = None
    try:
        server = smtp.Server.of(mailbox)
        connection = smtp.connect(server, seconds=TEST_SECONDS)
        note = _(
            "Accord sent this to check that it can write from this mailbox. Nothing needs doing."
        )
        test = _TestMessage(mailbox, _("Accord: a test message"), note)
        smtp.send(
            connection,
            sender=mailbox.address,
            recipients=[mailbox.address],
            data=smtp.mime(test, []).as_bytes(),
        )
        code, _answer = connection.noop()
    except smtp.MailError as error:
        return Outcome(False, error.reason)
    finally:
        smtp.close(connection)
    return Outcome(
        True,
        _("Sent a test message to %(address)s through %(host)s; the server is ready (%(code)s).")
        % {"address": mailbox.address, "host": mailbox.smtp_host, "code": code},
    )


class ImapError(Exception):
    """Logging in to a mailbox's IMAP server failed; `reason` says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def imap_login(mailbox: Mailbox, seconds: float = TEST_SECONDS):
    """An imap-tools MailBox logged in with the folder open, or ImapError with the
    server's own answer (a refused password, a TLS failure, a host that is not there)."""
    if not mailbox.imap_host:
        raise ImapError(_("Fill in the IMAP server first."))
    try:
        password = unseal(mailbox.imap_password_sealed)
    except SecretUnreadable as error:
        raise ImapError(str(error)) from None
    kind = {TLS: MailBox, STARTTLS: MailBoxStartTls}.get(mailbox.imap_security, MailBoxUnencrypted)
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        client = kind(mailbox.imap_host, mailbox.imap_port, timeout=seconds)
    except Exception as error:
        raise ImapError(explain_imap(error, where, seconds)) from None
    try:
        client.login(mailbox.imap_username, password, initial_folder=mailbox.imap_folder)
    except MailboxLoginError as error:
        logout(client)
        raise ImapError(
            _("The server refused the login: %(answer)s") % {"answer": said(error)}
        ) from None
    except MailboxFolderSelectError as error:
        logout(client)
        raise ImapError(
            _("The server has no folder “%(folder)s”: %(answer)s")
            % {"folder": mailbox.imap_folder, "answer": said(error)}
        ) from None
    except Exception as error:
        logout(client)
        raise ImapError(explain_imap(error, where, seconds)) from None
    return client


def logout(client) -> None:
    with contextlib.suppress(Exception):  # the server is gone already
        client.logout()


def test_receiving(mailbox: Mailbox) -> Outcome:
    """Connect, log in and open the folder; answers how many messages it holds, and where
    the sent mail is fetched from."""
    try:
        client = imap_login(mailbox)
    except ImapError as error:
        return Outcome(False, error.reason)
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        count = client.folder.status(mailbox.imap_folder).get("MESSAGES", 0)
        sent = sent_folder(client, mailbox.imap_folder)
    except Exception as error:
        return Outcome(False, explain_imap(error, where))
    finally:
        logout(client)
    said = _("Logged in to %(where)s; the folder “%(folder)s” holds %(count)s messages.") % {
        "where": where, "folder": mailbox.imap_folder, "count": count,
    }  # fmt: skip
    if sent:
        said += " " + _("Mail sent from a mail program is fetched from “%(folder)s”.") % {
            "folder": sent
        }
    else:
        said += " " + _("No folder of sent mail was found: only mail that comes in is fetched.")
    return Outcome(True, said)


def sent_folder(client, receiving: str) -> str:
    """The folder the mail program keeps sent mail in: the one the server marks \\Sent
    (IMAP SPECIAL-USE, RFC 6154), else one of the usual names; "" when there is none."""
    folders = [f for f in client.folder.list() if f.name != receiving]
    for found in folders:
        if any(flag.lower() == "\\sent" for flag in found.flags):
            return found.name
    names = {found.name.lower(): found.name for found in folders}
    return next((names[name.lower()] for name in SENT_NAMES if name.lower() in names), "")


def explain_imap(error: Exception, where: str, seconds: float = TEST_SECONDS) -> str:
    """An error talking to an IMAP server, in words."""
    if isinstance(error, ssl.SSLError):
        return _(
            "The secure connection to %(where)s failed (%(error)s): check the security "
            "setting and the port."
        ) % {"where": where, "error": getattr(error, "reason", None) or error}
    if isinstance(error, ConnectionRefusedError):
        return _("%(where)s refused the connection: nothing answers on that port.") % {
            "where": where
        }
    if isinstance(error, socket.gaierror):
        return _("There is no server named %(host)s (%(error)s).") % {
            "host": where.rpartition(":")[0],
            "error": error.strerror,
        }
    if isinstance(error, TimeoutError | socket.timeout):
        return _("%(where)s did not answer within %(seconds)s seconds.") % {
            "where": where,
            "seconds": int(seconds),
        }
    if isinstance(error, imaplib.IMAP4.error):
        return _("The server answered: %(answer)s") % {"answer": said(error)}
    return _("Could not talk to %(where)s: %(error)s") % {
        "where": where,
        "error": str(error) or type(error).__name__,
    }


def said(error: Exception) -> str:
    """The server's own words from an imap-tools or imaplib error."""
    result = getattr(error, "command_result", None)
    lines = result[1] if isinstance(result, tuple) and len(result) > 1 else None
    if isinstance(lines, list | tuple) and lines:
        return " ".join(
            line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
            for line in lines
        )
    return str(error)


@dataclass
class _TestMessage:
    """What smtp.mime reads of a message, for the test message that is stored nowhere."""

    mailbox: Mailbox
    subject: str
    text: str
    html: str = ""
    cc: tuple = ()
    in_reply_to: str = ""
    references: str = ""
    rule_name: str = "test"

    @property
    def from_name(self) -> str:
        return self.mailbox.from_name

    @property
    def from_address(self) -> str:
        return self.mailbox.address

    @property
    def to(self) -> list[str]:
        return [self.mailbox.address]

    @property
    def message_id(self) -> str:
        return make_msgid("accord-test", domain=self.mailbox.domain)
