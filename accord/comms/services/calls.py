"""Telephony's writes: the connection's settings and extensions, the provider's events
stored once, and the worker's passes that make calls of them (call_merging.py: what a
call's events do).

An event is stored before anything else happens (`call_events_store`, in the webhook's
request): a repeat finds its key taken. The request then queues the worker's pass
(`call_events_queue`), one for a burst of events. The pass (`call_events_drain`) applies
the stored events in batches, in arrival order, one transaction a batch: the call is
found by the provider's call id or made, the client found by the number — the batch's
numbers in one query — or created through the contacts services, for the team's lead
rule to hand out — and when the call ends it goes on the client's and the open deal's
timelines; a missed one becomes a "call back" task for the client's owner, which a later
talk with that number closes. An event that cannot be applied yet (a recording before its
call) stays pending; any other failure undoes its batch, whose events are then applied
one by one, each in a savepoint, so only the broken one stays pending. The worker's
periodic catch-up (`call_events_catch_up`) tries the pending ones again.
"""

import datetime
import logging
import re
import time
from contextlib import nullcontext
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import Team, User
from accord.comms.models import CallEvent, Extension, Telephony
from accord.comms.queries import hook_connection_forget
from accord.comms.services.batches import gathered
from accord.comms.services.call_merging import Known, NotYet, apply_signal
from accord.comms.telephony import Signal
from accord.core.bulk import insert_new
from accord.core.secrets import seal

log = logging.getLogger(__name__)

PROBLEMS_KEPT = 10
RETRY_AFTER = timedelta(seconds=30)  # a pending event the worker's pass takes up
GIVE_UP_AFTER = 20  # attempts; then the event is failed, its error kept for the admin
CATCH_UP_BATCH = 200


# --- The connection --------------------------------------------------------------------


def require_admin(actor: User) -> None:
    if not actor.sets_up_company:
        raise PermissionDenied(_("Only an administrator sets up telephony."))


@transaction.atomic
def telephony_save(*, actor: User, data: dict, telephony: Telephony | None = None) -> Telephony:
    """Create or change a connection; `secret` is kept sealed ("" keeps the one stored)."""
    require_admin(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Give the connection a name.")]
    elif len(name) > 100:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": 100}]
    provider = data.get("provider") or Telephony.GENERIC
    if provider not in dict(Telephony.PROVIDERS):
        errors["provider"] = [_("Choose a provider from the list.")]
    minutes = data.get("callback_minutes", 15)
    if not isinstance(minutes, int) or not 1 <= minutes <= 7 * 24 * 60:
        errors["callback_minutes"] = [_("Give the minutes, from 1 to a week.")]
    team = data.get("lead_team")
    if team is not None and not isinstance(team, Team):
        errors["lead_team"] = [_("Choose a team from the list.")]
    secret = str(data.get("secret") or "")
    if len(secret) > 500:
        errors["secret"] = [_("At most %(limit)s characters.") % {"limit": 500}]
    key = str(data.get("api_key") or "").strip()
    if len(key) > 200:
        errors["api_key"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    will_have_secret = bool(secret or (telephony and telephony.secret_sealed))
    if provider == Telephony.ZADARMA and not will_have_secret:
        errors["secret"] = [_("Zadarma signs its notifications with your API secret: give it.")]
    elif provider == Telephony.TWILIO and not will_have_secret:
        errors["secret"] = [_("Twilio signs its callbacks with your auth token: give it.")]
    elif not will_have_secret:
        errors["secret"] = [_("Give the secret the PBX signs its events with.")]
    if errors:
        raise ValidationError(errors)
    telephony = telephony or Telephony(created_by=actor)
    if telephony.pk:
        telephony = Telephony.objects.select_for_update().get(pk=telephony.pk)
        telephony.version += 1
    telephony.name, telephony.provider = name, provider
    if key:
        telephony.api_key_sealed = seal(key)
    telephony.callback_minutes, telephony.lead_team = minutes, team
    telephony.active = bool(data.get("active", True))
    if secret:
        telephony.secret_sealed = seal(secret)
    telephony.save()
    hook_connection_forget(telephony)
    return telephony


@transaction.atomic
def telephony_delete(*, actor: User, telephony: Telephony) -> None:
    """Remove a connection: its calls stay on the timelines, its address stops answering."""
    require_admin(actor)
    hook_connection_forget(telephony)
    telephony.delete()


# An internal number, or a softphone's or SIP user's name (Twilio's "client:alice").
EXTENSION = re.compile(r"[\w*#.@+-]{1,30}")


@transaction.atomic
def extensions_set(*, actor: User, telephony: Telephony, extensions: dict[str, User]) -> None:
    """The whole list of extensions ({number: user}): numbers not named are removed."""
    require_admin(actor)
    errors = []
    for number, user in extensions.items():
        if not EXTENSION.fullmatch(number):
            errors.append(_("“%(number)s” is not an extension.") % {"number": number[:30]})
        elif not user.is_active:
            errors.append(_("%(user)s is not an active user.") % {"user": user})
    if errors:
        raise ValidationError({"extensions": errors})
    telephony.extensions.exclude(number__in=list(extensions)).delete()
    for number, user in extensions.items():
        Extension.objects.update_or_create(
            telephony=telephony, number=number, defaults={"user": user}
        )


def telephony_refused(*, telephony: Telephony, reason: str, at: datetime.datetime) -> None:
    """A delivery we did not take, kept for the admin's page (newest first, a few)."""
    with transaction.atomic():
        fresh = Telephony.objects.select_for_update().filter(pk=telephony.pk).first()
        if fresh is None:
            return
        fresh.problems = [{"at": at.isoformat(), "reason": reason[:500]}, *fresh.problems][
            :PROBLEMS_KEPT
        ]
        fresh.save(update_fields=["problems"])


# --- Events in -------------------------------------------------------------------------


def call_events_store(
    *, telephony: Telephony, signals: list[Signal], at: datetime.datetime
) -> list[int]:
    """Store each event once (a repeat finds its key taken); the new ones' ids. One
    INSERT … ON CONFLICT DO NOTHING for them all, committed on its own: the PBX waits on
    this, and a repeat is told by the key it finds, not by an error."""
    rows: dict[str, dict] = {}
    for signal in signals:
        key = signal.key[:300]
        rows.setdefault(key, {"telephony": telephony.pk, "key": key,
                              "payload": signal.as_payload(), "received_at": at,
                              "state": CallEvent.PENDING, "attempts": 0, "error": ""})  # fmt: skip
    ids = insert_new(CallEvent, list(rows.values()), unique=["telephony", "key"])
    if telephony.last_event_at is None or at - telephony.last_event_at > LAST_EVENT_EVERY:
        Telephony.objects.filter(pk=telephony.pk).update(last_event_at=at)
        telephony.last_event_at = at
        hook_connection_forget(telephony)  # read it anew
    return ids


LAST_EVENT_EVERY = timedelta(minutes=1)  # "last event" is written at most this often


def call_events_queue(telephony_id: int, now: datetime.datetime) -> bool:
    """Queue the worker's pass over a connection's new events, unless one is waiting
    already (a burst of events queues one pass, not one each). Called once the events
    are stored (committed): the pass waiting, or one that started meanwhile, finds them.
    Answers whether a pass was queued."""
    from accord.comms.tasks import apply_call_events  # the task module imports the services

    waiting = Q(events_queued_at__isnull=True) | Q(events_queued_at__lt=now - QUEUED_FOR_LONG)
    row = Telephony.objects.filter(pk=telephony_id)
    if not row.filter(waiting).exists():  # a read: no write lock during a burst
        return False
    try:
        with transaction.atomic():
            if not row.filter(waiting).update(events_queued_at=now):
                return False  # queued by another request meanwhile
            # Queued in the transaction that marks it (on the database queue, the same
            # commit): the events are committed already, and a queue that is away leaves
            # no mark behind.
            apply_call_events.enqueue(telephony_id)
    except DatabaseError:
        raise
    except Exception:  # the queue is away: the worker's catch-up applies the events
        log.exception("telephony %s: the pass over its events could not be queued", telephony_id)
        return False
    return True


# A mark older than this is of a pass that was lost (a queue emptied, a worker killed
# before it started): the next event queues another.
QUEUED_FOR_LONG = timedelta(minutes=2)


APPLY_BATCH = 100  # events applied in one transaction
PASS_SECONDS = 10.0  # a pass that ran this long queues the next and ends (other jobs wait)


def call_events_drain(telephony_id: int, *, seconds: float = PASS_SECONDS) -> int:
    """The worker's pass: a connection's new events applied, APPLY_BATCH at a time in
    arrival order, until none is left. Answers how many were applied."""
    # The mark comes off first: an event stored from now on queues the next pass, one
    # stored before is found below.
    Telephony.objects.filter(pk=telephony_id).update(events_queued_at=None)
    began, applied = time.monotonic(), 0
    while True:
        taken, done = call_events_apply_next(telephony_id)
        applied += done
        if not taken:
            return applied
        if time.monotonic() - began >= seconds:  # more may wait: the next pass, queued
            call_events_queue(telephony_id, timezone.now())
            return applied


def call_events_apply_next(telephony_id: int, *, limit: int = APPLY_BATCH) -> tuple[int, int]:
    """The oldest of a connection's events not tried yet (up to `limit`), applied in one
    transaction. Answers (taken, applied): none taken, nothing is left to do."""
    fresh = CallEvent.objects.filter(
        telephony_id=telephony_id, state=CallEvent.PENDING, attempts=0
    ).order_by("received_at", "pk")
    return _apply_batch(fresh, limit)


def call_events_apply(ids: list[int]) -> int:
    """Apply these stored events (those still pending), in batches; answers how many were
    applied (the rest stay pending, or fail after many attempts)."""
    applied = 0
    for start in range(0, len(ids), APPLY_BATCH):
        chunk = ids[start : start + APPLY_BATCH]
        pending = CallEvent.objects.filter(pk__in=chunk, state=CallEvent.PENDING)
        applied += _apply_batch(pending.order_by("received_at", "pk"), len(chunk))[1]
    return applied


def _apply_batch(pending, limit: int, *, careful: bool = False) -> tuple[int, int]:
    """Take up to `limit` of these pending events and apply them in one transaction. An
    event that cannot be applied yet is kept pending; any other failure undoes the batch,
    and each of its events is applied again on its own, `careful`ly (each step that may
    fail in a savepoint), so that only the one that fails is kept pending, with its error."""
    try:
        with transaction.atomic():
            # Taken by marking them done: another worker skips the rows locked here
            # (PostgreSQL) or waits for this write (SQLite) and finds them done.
            events = list(
                pending.select_for_update(skip_locked=True).only(
                    "telephony_id", "payload", "received_at", "attempts"
                )[:limit]
            )
            if not events:
                return 0, 0
            CallEvent.objects.filter(pk__in=[event.pk for event in events]).update(
                state=CallEvent.DONE, attempts=F("attempts") + 1, error=""
            )
            return len(events), _apply_each(events, careful=careful)
    except OperationalError:
        raise  # the database is locked or away: the worker's next pass takes them
    except Exception:
        if careful:
            raise
        log.exception("a batch of call events failed; applying them one by one")
        ids = list(pending.values_list("pk", flat=True)[:limit])
        return len(ids), sum(_apply_one(pk) for pk in ids)


def _apply_one(pk: int) -> int:
    try:
        one = CallEvent.objects.filter(pk=pk, state=CallEvent.PENDING)
        return _apply_batch(one, 1, careful=True)[1]
    except Exception as error:  # its transaction undone, the try with it: counted here
        log.exception("call event %s could not be applied", pk)
        attempts = CallEvent.objects.filter(pk=pk).values_list("attempts", flat=True).first()
        if attempts is not None:
            _attempt_failed(pk, attempts + 1, error)
        return 0


def _apply_each(events: list[CallEvent], *, careful: bool) -> int:
    """Each event in arrival order (a call's events in the order they came). One that
    cannot be applied yet (NotYet: raised before it writes anything) is kept pending; when
    `careful`, each in a savepoint, and one that fails is kept pending with its error."""
    connections: dict[int, Telephony] = {}  # one object each: its extensions read once
    readable = []
    for event in events:
        if event.telephony_id not in connections:
            connections[event.telephony_id] = event.telephony
        try:
            signal = Signal.from_payload(event.payload)
        except Exception as error:
            log.exception("call event %s could not be read", event.pk)
            _attempt_failed(event.pk, event.attempts + 1, error)
            continue
        readable.append((event, connections[event.telephony_id], signal))
    known = Known([(telephony, signal) for _e, telephony, signal in readable], careful)
    # A batch's timeline entries, events, rollups and clients contacted are written at
    # its end; a careful one writes each step as it goes (a savepoint may undo it).
    with nullcontext() if careful else gathered():
        return _apply_all(readable, known, careful=careful)


def _apply_all(readable: list, known: "Known", *, careful: bool) -> int:
    applied = 0
    for event, telephony, signal in readable:
        try:
            with transaction.atomic() if careful else nullcontext():
                apply_signal(telephony, signal, event.received_at, known)
            applied += 1
        except NotYet as error:  # kept, for the worker's catch-up
            _attempt_failed(event.pk, event.attempts + 1, error)
        except Exception as error:
            if not careful:
                raise  # the batch is undone, and its events applied one by one
            log.exception("call event %s could not be applied", event.pk)
            known.forget(telephony, signal)
            _attempt_failed(event.pk, event.attempts + 1, error)
    known.write()
    return applied


def _attempt_failed(pk: int, attempts: int, error: Exception) -> None:
    """The try that failed counted (the `attempts` it makes), its error kept; pending for
    the worker's catch-up, or failed after GIVE_UP_AFTER tries."""
    CallEvent.objects.filter(pk=pk).update(
        attempts=attempts,
        state=CallEvent.FAILED if attempts >= GIVE_UP_AFTER else CallEvent.PENDING,
        error=str(error)[:2000] or type(error).__name__,
    )


def call_events_catch_up(now: datetime.datetime) -> int:
    """The worker's periodic pass: pending events older than RETRY_AFTER, oldest first
    (those that failed or could not be applied yet, and any a lost pass left)."""
    ids = list(
        CallEvent.objects.filter(state=CallEvent.PENDING, received_at__lte=now - RETRY_AFTER)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    return call_events_apply(ids)
