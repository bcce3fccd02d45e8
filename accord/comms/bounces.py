"""Delivery reports written as text, for people rather than programs: Exim's "Mail delivery
failed: returning message to sender", qmail's "Hi. This is the qmail-send program",
Postfix's and Sendmail's text forms, Exchange's "Undeliverable:", Gmail's "Delivery Status
Notification (Failure)". Which address failed, with which status (5.x.x: for good, 4.x.x:
the server goes on trying), and the Message-ID of the message it returns. Reports in the
standard form (multipart/report, RFC 3464) are read by reading.py."""

import re
from dataclasses import dataclass

# Who writes delivery reports: the local part of their address, or their name.
DAEMONS = {"mailer-daemon", "mail-daemon", "maildaemon", "mailerdaemon", "postmaster",
           "mdaemon", "mail.delivery.system", "mail-delivery-system"}  # fmt: skip
DAEMON_NAME = re.compile(r"mail delivery (?:system|subsystem|service)|mailer.daemon", re.I)
SUBJECT = re.compile(
    r"mail delivery failed|returning message to sender|undeliver|returned mail|"
    r"delivery status notification|delivery (?:has )?failed|delivery failure|failure notice|"
    r"non[- ]?delivery|could not be delivered|not delivered|delivery delayed|"
    r"delayed mail|warning: message .* delayed",
    re.I,
)
SIGNATURE = re.compile(
    r"qmail-send program|created automatically by mail delivery software|"
    r"this is the mail system at host|the original message was received at|"
    r"delivery to the following recipients? (?:failed|has been delayed)|"
    r"did not reach some or all of the intended recipients|could not be delivered|"
    r"wasn't able to deliver|permanent fatal errors|has not yet been delivered",
    re.I,
)
# Where the copy of the returned message begins: its addresses are not the failed ones.
COPY = re.compile(
    r"^\s*-{2,}\s*(?:this is a copy of|below this line is a copy|original message|"
    r"returned message|message header follows|undelivered message|headers of the)"
    r"|^(?:return-path|received|message-id|dkim-signature):",
    re.I | re.M,
)
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
# An enhanced status code (RFC 3463: 5.1.1) — not part of an IP address or a date — and a
# plain SMTP reply code (550) where a server's answer begins.
STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\d|\.\d)")
REPLY = re.compile(r"(?:^|[\s(;:>#])([45][0-5]\d)(?=[\s-])", re.M)
MESSAGE_ID = re.compile(r"^\s*message-id:\s*(<[^<>\s]{1,250}>)", re.I | re.M)
TEMPORARY = re.compile(
    r"temporary|delayed|has not yet been delivered|will be retried|still trying|"
    r"will (?:continue|keep) trying|not yet been delivered",
    re.I,
)
PERMANENT = re.compile(
    r"permanent|fatal error|failed permanently|given up|giving up|could not be delivered|"
    r"wasn't able to deliver|cannot be reached|does not exist|user unknown|no such user|"
    r"address rejected|unrouteable|returning message to sender",
    re.I,
)
MAX_FAILURES = 20


@dataclass
class Failure:
    """One recipient a delivery report says the message did not reach."""

    address: str
    status: str  # "5.1.1"
    diagnostic: str

    @property
    def hard(self) -> bool:
        return self.status.startswith("5")


def is_report(sender: str, name: str, return_path: str, subject: str, text: str) -> bool:
    """Whether a message that is not a standard report is one written as text: from a mail
    server's daemon (or sent with the empty return path reports have) and saying so."""
    local = sender.partition("@")[0].lower()
    from_daemon = local in DAEMONS or bool(DAEMON_NAME.search(name)) or return_path == "<>"
    return from_daemon and bool(SUBJECT.search(subject) or SIGNATURE.search(text[:5000]))


def failures(text: str, *, ours: set[str]) -> list[Failure]:
    """The recipients the report's text names, each with the status said after it, else
    the one the words say (permanent or temporary) — an address with neither is left
    out. `ours`: the report's own addresses (its sender, who it went to)."""
    cut = COPY.search(text)
    report = text[: cut.start()] if cut else text
    found = [(m.start(), m.group(0).lower()) for m in ADDRESS.finditer(report)]
    named = [(at, address) for at, address in found
             if address not in ours and address.partition("@")[0] not in DAEMONS]  # fmt: skip
    firsts: dict[str, int] = {}
    for at, address in named:
        firsts.setdefault(address, at)
    starts = sorted((at, address) for address, at in firsts.items())
    overall = _overall(report)
    failed = []
    for index, (at, address) in enumerate(starts[:MAX_FAILURES]):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(report)
        block = report[at:end]
        status = _status(block) or overall
        if status:
            failed.append(Failure(address, status, _diagnostic(block, address)))
    return failed


def bounced_id(text: str) -> str:
    """The Message-ID of the returned message, from its copy in the text."""
    found = MESSAGE_ID.search(text)
    return found.group(1) if found else ""


def _status(block: str) -> str:
    found = STATUS.search(block)
    if found:
        return found.group(1)
    reply = REPLY.search(block)
    return f"{reply.group(1)[0]}.0.0" if reply else ""


def _overall(report: str) -> str:
    """What the words say of every address at once: delayed (4.0.0) or failed for good
    (5.0.0); "" when they say neither."""
    if TEMPORARY.search(report) and not re.search(r"permanent", report, re.I):
        return "4.0.0"
    return "5.0.0" if PERMANENT.search(report) else ""


def _diagnostic(block: str, address: str) -> str:
    """The server's words about the address: its block on one line, without the address
    itself and the report's boilerplate around it."""
    words = " ".join(re.sub(re.escape(address), " ", block, count=1, flags=re.I).split())
    return words.strip(" <>:;,.-")[:500]
