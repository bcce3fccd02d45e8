"""What the worker runs to receive e-mail: for each mailbox in use with IMAP set up, take
the messages that came since its last fetch (by UID, per folder UIDVALIDITY), a batch at a
time, and hand each to the receive service. Only tasks.py, the periodic job and "Fetch now"
call this; the services write.

Incremental: a mailbox remembers its folder's UIDVALIDITY and the highest UID it took, after
every batch, so a crash or a restart goes on where it stopped. A changed UIDVALIDITY (the
server rebuilt the folder) starts over — and changes nothing already stored: a message is
kept once, by its Message-ID. A first fetch takes the newest
ACCORD_EMAIL_FIRST_FETCH_MESSAGES of the last ACCORD_EMAIL_FIRST_FETCH_DAYS days, not a
mailbox's whole history. Memory stays flat: a batch holds at most BATCH messages and
BATCH_BYTES of them; a message over ACCORD_EMAIL_RAW_MAX_MB is fetched by its headers.
"""

import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from imap_tools import AND, U
from imap_tools.errors import UnexpectedCommandStatusError

from accord.comms import connections
from accord.comms.models import Mailbox, MessageCopy
from accord.comms.services.receiving import (
    Fetched,
    mailbox_fetch_failed,
    mailbox_fetch_progress,
    mailbox_fetched,
    messages_receive,
    own_addresses,
)
from accord.core.company import default_language

log = logging.getLogger(__name__)
BATCH = 200  # messages per FETCH command
BATCH_BYTES = 20 * 1024 * 1024  # and at most this much of them
PASS_SECONDS = 25.0  # a pass goes on with further batches this long; the next goes on
CLAIM = timedelta(minutes=5)  # a worker that died holding a mailbox lets it go after this
UID = re.compile(rb"UID (\d+)")
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def tick(now: datetime) -> int:
    """The periodic job: fetch every mailbox that is due (each by one worker). Answers how
    many messages came in."""
    fetched = 0
    due = Mailbox.objects.filter(active=True).exclude(imap_host="").exclude(imap_username="")
    due = due.filter(Q(sync_due_at=None) | Q(sync_due_at__lte=now))
    for mailbox in due.order_by("sync_due_at", "pk"):
        fetched += fetch(mailbox, now=now)
    return fetched


def fetch(mailbox: Mailbox, *, now: datetime | None = None, seconds: float = PASS_SECONDS) -> int:
    """Fetch one mailbox now, if no other worker is at it; answers how many new messages."""
    now = now or timezone.now()
    free = Q(sync_claimed_until=None) | Q(sync_claimed_until__lt=now)
    if not Mailbox.objects.filter(free, pk=mailbox.pk).update(sync_claimed_until=now + CLAIM):
        return 0
    mailbox.refresh_from_db()
    with translation.override(default_language()):  # the reasons stored, in words
        return _fetch(mailbox, seconds)


def _fetch(mailbox: Mailbox, seconds: float) -> int:
    began = time.monotonic()
    try:
        client = connections.imap_login(mailbox, settings.ACCORD_EMAIL_TIMEOUT_SECONDS)
    except connections.ImapError as error:
        mailbox_fetch_failed(mailbox=mailbox, reason=error.reason, at=timezone.now())
        return 0
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    fetched, more, sent, sent_problem = 0, False, "", ""
    try:
        sent = connections.sent_folder(client, mailbox.imap_folder)
        ours = own_addresses()
        # The sent folder first: a message a user sent with a copy to themselves is
        # theirs to the client, not a copy of our own that came in.
        for folder in ([Folder(sent, True)] if sent else []) + [Folder(mailbox.imap_folder)]:
            try:
                took, more = _fetch_folder(mailbox, client, folder, ours, began + seconds)
            except UnexpectedCommandStatusError as error:
                if not folder.sent:
                    raise
                # The server refuses its sent folder (its own fault, or the folder's):
                # what clients write still comes in, and the page says why sent mail not.
                log.warning("mailbox %s: sent folder %r refused: %s", mailbox.pk, sent, error)
                sent_problem = connections.explain_imap(error, where)
                continue
            fetched += took
            if more:
                break
    except Exception as error:
        log.info("mailbox %s: fetch failed: %s", mailbox.pk, error)
        mailbox_fetch_failed(
            mailbox=mailbox, reason=connections.explain_imap(error, where), at=timezone.now()
        )
        return fetched
    finally:
        connections.logout(client)
    mailbox_fetched(mailbox=mailbox, at=timezone.now(), fetched=fetched, more=more,
                    sent_folder=sent, sent_problem=sent_problem)  # fmt: skip
    return fetched


@dataclass
class Folder:
    """A folder fetched: the receiving one, or where the user's mail program keeps what it
    sends (its messages are outgoing)."""

    name: str
    sent: bool = False

    def position(self, mailbox: Mailbox) -> tuple[int | None, int]:
        """The folder's UIDVALIDITY and the highest UID taken, as last stored."""
        if self.sent:
            return mailbox.sent_uidvalidity, mailbox.sent_last_uid
        return mailbox.sync_uidvalidity, mailbox.sync_last_uid


def _fetch_folder(mailbox: Mailbox, client, folder: Folder, ours, deadline: float):
    """Take a folder's new messages until the deadline: (how many were new, whether some
    are left for the next pass)."""
    status = client.folder.status(folder.name, ["UIDVALIDITY", "UIDNEXT"])
    validity, following = int(status["UIDVALIDITY"]), int(status.get("UIDNEXT") or 0)
    known, last_uid = folder.position(mailbox)
    last_uid = last_uid if known == validity else 0
    if last_uid == 0 and known not in (None, validity):
        # The folder was rebuilt: its old UIDs mean nothing now (the messages stay).
        MessageCopy.objects.filter(mailbox=mailbox, folder=folder.name).exclude(
            uidvalidity=validity
        ).delete()
    fetched = 0
    if following and following <= last_uid + 1:
        return fetched, False  # nothing new: one STATUS, the folder not even opened
    client.folder.set(folder.name, readonly=True)
    uids = _new_uids(client, last_uid)
    for batch in _batches(client, uids):
        fetched += _take(mailbox, client, batch, validity, ours, folder)
        if time.monotonic() > deadline:
            return fetched, batch[-1][0] != uids[-1]
    return fetched, False


def _new_uids(client, last_uid: int) -> list[int]:
    """The UIDs to take, oldest first: those after the last one taken, or on a first fetch
    the newest of the last days."""
    if last_uid:
        found = client.uids(AND(uid=U(last_uid + 1, "*")))
        return sorted(uid for uid in map(int, found) if uid > last_uid)  # "n:*" holds the last
    since = date.today() - timedelta(days=settings.ACCORD_EMAIL_FIRST_FETCH_DAYS)
    found = sorted(map(int, client.uids(AND(date_gte=since))))
    return found[-settings.ACCORD_EMAIL_FIRST_FETCH_MESSAGES :]


def _batches(client, uids: list[int]):
    """The UIDs in groups to fetch at once, each (uid, size) at most BATCH of them and
    BATCH_BYTES together (a message alone may weigh more)."""
    for start in range(0, len(uids), BATCH):
        sizes = _sizes(client, uids[start : start + BATCH])
        group: list[tuple[int, int]] = []
        weight = 0
        for uid, size in sizes:
            if group and weight + size > BATCH_BYTES:
                yield group
                group, weight = [], 0
            group.append((uid, size))
            weight += size
        if group:
            yield group


def _sizes(client, uids: list[int]) -> list[tuple[int, int]]:
    typ, data = client.client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    found = {}
    for line in data if typ == "OK" else []:
        line = line[0] if isinstance(line, tuple) else line
        uid, size = UID.search(line or b""), SIZE.search(line or b"")
        if uid and size:
            found[int(uid.group(1))] = int(size.group(1))
    return sorted(found.items())


def _take(mailbox: Mailbox, client, batch: list, validity: int, ours, folder: Folder) -> int:
    """Fetch a batch and store each message; one that cannot be stored is told on the
    mailbox's page, and the next goes on. Answers how many were new."""
    limit = settings.ACCORD_EMAIL_RAW_MAX_MB * 1024 * 1024
    whole = [uid for uid, size in batch if size <= limit]
    heavy = {uid: size for uid, size in batch if size > limit}
    raws = _bodies(client, whole, "BODY.PEEK[]")
    raws.update(_bodies(client, list(heavy), "BODY.PEEK[HEADER]"))
    items = [
        Fetched(raws[uid], validity, uid, heavy.get(uid, 0), folder.name, folder.sent)
        for uid, _size in batch
        if uid in raws
    ]  # a message expunged meanwhile is not there
    new, problems = 0, []
    try:
        results = messages_receive(mailbox=mailbox, fetched=items, ours=ours)
    except Exception:  # a bug: find the message it is in, store the others
        log.exception("mailbox %s: a batch could not be stored; one at a time", mailbox.pk)
        results = [_one(mailbox, item, ours, problems) for item in items]
    for item, received in zip(items, results, strict=True):
        if received is None or not received.new:
            continue
        new += 1
        message = received.message
        if message.problems:
            problems.append(_problem(item.uid, message.subject, message.from_address,
                                     message.problems, message.pk))  # fmt: skip
    mailbox_fetch_progress(
        mailbox=mailbox, uidvalidity=validity, last_uid=batch[-1][0], fetched=new,
        problems=problems, sent=folder.sent,
    )  # fmt: skip
    return new


def _one(mailbox: Mailbox, item: Fetched, ours, problems: list):
    try:
        return messages_receive(mailbox=mailbox, fetched=[item], ours=ours)[0]
    except Exception as error:
        log.exception("mailbox %s: message %s could not be stored", mailbox.pk, item.uid)
        reason = _("It could not be stored (%(error)s).") % {
            "error": f"{type(error).__name__}: {error}"[:300]
        }
        problems.append(_problem(item.uid, "", "", reason))
        return None


def _bodies(client, uids: list[int], part: str) -> dict[int, bytes]:
    if not uids:
        return {}
    typ, data = client.client.uid("FETCH", ",".join(map(str, uids)), f"(UID {part})")
    found = {}
    for item in data if typ == "OK" else []:
        if isinstance(item, tuple) and len(item) == 2:
            uid = UID.search(item[0])
            if uid:
                found[int(uid.group(1))] = item[1]
    return found


def _problem(uid: int, subject: str, sender: str, problem: str, message_id=None) -> dict:
    return {"at": timezone.now().isoformat(), "uid": uid, "subject": subject[:200],
            "from": sender, "problem": problem[:1000], "message": message_id}  # fmt: skip
