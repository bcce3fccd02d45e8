"""How a call's events make one call (the worker's part, see calls.py): the call found by
the provider's call id or made, its client found by the number — a batch's numbers in one
query — or created through the contacts services for the team's lead rule, and once it
ends: the client's and the open deal's timelines, a missed call's "call back" task for
the client's owner, and the tasks of the missed calls a talk returns, closed.
"""

import datetime
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.accounts.queries import hours_of
from accord.comms.models import Call, Extension, Telephony
from accord.comms.services.stats import stats_call
from accord.comms.telephony import ANSWERED, ENDED, RECORDING, RINGING, Signal
from accord.contacts.models import Company, Person
from accord.contacts.queries import clients_by_phone
from accord.contacts.services import client_contacted, person_create
from accord.core.bulk import update_rows
from accord.core.events import caused_by, emit
from accord.core.formats import duration_text
from accord.core.phones import PhoneError, display_phone, normalize_phone
from accord.core.timeline import timeline_record
from accord.core.workhours import minutes_between
from accord.sales.models import Deal
from accord.work.models import Task
from accord.work.services import can_change, task_complete, task_create

log = logging.getLogger(__name__)

# A start the PBX gives this far from when its event came is on another clock (Zadarma's
# account zone, not the company's): the time of arrival is used instead.
PBX_CLOCK_TRUSTED = timedelta(hours=1)


class NotYet(Exception):
    """The event cannot be applied yet (its call is not known): left for a later pass."""


class Known:
    """What a batch of events reads once rather than per event: the calls they belong to
    (locked for the batch), the client each number belongs to, those people and their
    newest open deals. Kept up to date as the batch makes calls and people; an event that
    failed has its call and number forgotten (its savepoint undid what it made). A
    `careful` batch makes a savepoint for each step that may fail on its own."""

    def __init__(self, events: list[tuple[Telephony, Signal]], careful: bool = False):
        self.careful = careful
        self.unwritten: dict[int, Call] = {}
        self.users: dict[int, User | None] = {}
        self.calls: dict[tuple[int, str], Call | None] = {}
        by_connection: dict[int, set[str]] = {}
        for telephony, signal in events:
            by_connection.setdefault(telephony.pk, set()).add(signal.call_id)
            self.calls[(telephony.pk, signal.call_id)] = None  # none yet, unless found below
        for telephony_id, call_ids in by_connection.items():
            found = (
                Call.objects.select_for_update(of=("self",))
                .filter(telephony_id=telephony_id, provider_call_id__in=call_ids)
                .select_related("person", "company", "deal", "user")
            )
            self.calls.update({(telephony_id, call.provider_call_id): call for call in found})
        numbers = {caller_number(signal.number) for _t, signal in events}
        numbers = {number for number in numbers if number.startswith("+")}
        self.clients: dict[str, tuple[str, int] | None] = dict.fromkeys(numbers)
        for number, kind, pk, _company in clients_by_phone(list(numbers)):
            if self.clients[number] is None or self.clients[number][0] != "person" == kind:
                self.clients[number] = (kind, pk)
        people = [pk for kind, pk in filter(None, self.clients.values()) if kind == "person"]
        self.people = Person.objects.in_bulk(people)
        self.deals: dict[int, Deal | None] = dict.fromkeys(self.people)
        for deal in Deal.objects.filter(status=Deal.OPEN, person_id__in=people).order_by(
            "-updated_at", "-pk"
        ):
            if self.deals[deal.person_id] is None:
                self.deals[deal.person_id] = deal
        self._waiting_for(numbers, set(people) | {
            call.person_id for call in self.calls.values() if call and call.person_id
        })  # fmt: skip

    def _waiting_for(self, numbers: set[str], people: set[int]) -> None:
        """Which of these numbers and people have missed calls not returned yet (two
        queries, each on its index): a talk with anyone else returns nothing, and looks
        no further."""
        self.numbers_checked, self.people_checked = numbers, people
        waiting = Call.objects.filter(state=Call.MISSED, returned_at__isnull=True)
        self.numbers_waiting = set(
            waiting.filter(number__in=numbers).values_list("number", flat=True)
        )
        self.people_waiting = set(
            waiting.filter(person_id__in=people).values_list("person_id", flat=True)
        )

    def waiting(self, number: str) -> bool:
        """Whether this number may have missed calls not returned yet (False only when
        surely not)."""
        return number.startswith("+") and (
            number not in self.numbers_checked or number in self.numbers_waiting
        )

    def may_return(self, call: Call) -> bool:
        """Whether a talk may return missed calls (False only when surely not)."""
        by_number = self.waiting(call.number)
        by_person = call.person_id is not None and (
            call.person_id not in self.people_checked or call.person_id in self.people_waiting
        )
        return by_number or by_person

    def missed(self, call: Call) -> None:
        """A call this batch ended missed: a later talk with its number or client returns it."""
        self.numbers_waiting.add(call.number)
        self.people_waiting.add(call.person_id)

    def call(self, telephony: Telephony, call_id: str) -> Call | None:
        key = (telephony.pk, call_id)
        if key not in self.calls:
            self.calls[key] = (
                Call.objects.select_for_update()
                .filter(telephony=telephony, provider_call_id=call_id)
                .first()
            )
        return self.calls[key]

    def client(self, number: str) -> tuple[str, int] | None:
        """("person" or "company", id) of the client with this number (a person first)."""
        if number not in self.clients:
            found = clients_by_phone([number])
            person = next((pk for _n, kind, pk, _c in found if kind == "person"), None)
            company = next((pk for _n, kind, pk, _c in found if kind == "company"), None)
            self.clients[number] = (
                ("person", person) if person else ("company", company) if company else None
            )
        return self.clients[number]

    def user(self, pk: int) -> User | None:
        """A user (a client's owner) with their role, read once a batch."""
        if pk not in self.users:
            self.users[pk] = User.objects.select_related("role").filter(pk=pk).first()
        return self.users[pk]

    def person(self, pk: int) -> Person:
        if pk not in self.people:
            self.people[pk] = Person.objects.get(pk=pk)
        return self.people[pk]

    def open_deal(self, call: Call) -> Deal | None:
        if call.person_id in self.deals:
            return self.deals[call.person_id]
        deals = Deal.objects.filter(status=Deal.OPEN)
        if call.person_id:
            deals = deals.filter(person_id=call.person_id)
        elif call.company_id:
            deals = deals.filter(company_id=call.company_id)
        else:
            return None
        return deals.order_by("-updated_at", "-pk").first()

    def made(self, call: Call) -> None:
        """A call (and the person for its number) made by this batch."""
        self.calls[(call.telephony_id, call.provider_call_id)] = call
        if call.person_id and call.number.startswith("+"):
            self.clients[call.number] = ("person", call.person_id)
            self.people[call.person_id] = call.person
            self.deals.setdefault(call.person_id, None)

    def changed(self, call: Call) -> None:
        """An event changed the call: written now when `careful`, else with the batch's
        other changed calls before anything reads calls again (`write`)."""
        if self.careful:
            call.save(update_fields=MERGED)
        else:
            self.unwritten[call.pk] = call

    def write(self) -> None:
        """The calls changed since the last write, in one statement: their fields an
        event sets (a missed call's task and a returned one's mark are written apart)."""
        update_rows(list(self.unwritten.values()), MERGED)
        self.unwritten.clear()

    def forget(self, telephony: Telephony, signal: Signal) -> None:
        self.calls.pop((telephony.pk, signal.call_id), None)
        number = caller_number(signal.number)
        found = self.clients.pop(number, None)
        if found and found[0] == "person":
            self.people.pop(found[1], None)
            self.deals.pop(found[1], None)


# --- A call ----------------------------------------------------------------------------

# What an event may change on its call (a missed call's task and a returned call's mark
# are written by their own steps).
MERGED = ["extension", "user", "started_at", "answered_at", "ended_at", "duration",
          "disposition", "recording", "state", "person", "company", "deal"]  # fmt: skip


def apply_signal(
    telephony: Telephony, signal: Signal, received_at: datetime.datetime, known: "Known"
) -> Call:
    # What the call writes (a new client, a task, timeline entries) says it came from the
    # PBX, not from the admin it is written as.
    with caused_by({"channel": "telephony", "channel_name": telephony.name}):
        call = _merge(telephony, signal, received_at, known)
    known.made(call)
    return call


def _merge(
    telephony: Telephony, signal: Signal, received_at: datetime.datetime, known: "Known"
) -> Call:
    at = _moment(signal.at) or received_at
    started = _moment(signal.started)
    if started and abs(started - received_at) > PBX_CLOCK_TRUSTED:
        started = None  # the PBX's clock is on another zone than the company's: not used
    call = known.call(telephony, signal.call_id)
    if call is None:
        if signal.kind == RECORDING:
            raise NotYet(_("The recording came before its call."))
        call = _new_call(telephony, signal, started or at, known)
    was_ended = call.ended_at is not None
    if signal.extension and (not call.extension or call.state == Call.RINGING):
        call.extension = signal.extension[:30]  # while it rings: the phone ringing now
    if signal.extension and (signal.kind == ANSWERED or call.user_id is None):
        call.user = _user_of(telephony, signal.extension) or call.user
    if signal.kind == RINGING:
        started = min(started or at, at)  # a ring that came after the end: the real start
    if started and started < call.started_at:
        call.started_at = started
    if signal.kind == ANSWERED:
        call.answered_at = call.answered_at or at
    if signal.kind == ENDED:
        call.ended_at = call.ended_at or at
        call.duration = signal.duration or call.duration
        if signal.duration is None and not call.duration and call.answered_at:
            call.duration = max(0, int((call.ended_at - call.answered_at).total_seconds()))
        call.disposition = signal.disposition or call.disposition
        if signal.answered and call.answered_at is None:
            talk = timedelta(seconds=call.duration)
            call.answered_at = max(call.started_at, call.ended_at - talk)
        # An "answered" the PBX reported stands: an end saying otherwise does not undo it.
    if signal.recording:
        call.recording = signal.recording
    if not was_ended:  # once ended, its state (and what followed from it) stays
        call.state = _state(call)
    if not (call.person_id or call.company_id) and call.state != Call.RINGING:
        # A new caller is made once someone answered or the call ended, so that the one
        # who took it (or the team's rule) owns them; ringing shows "a new client".
        _link_client(telephony, call, known, create=True)
    known.changed(call)
    if call.ended_at is not None and not was_ended:
        _ended(telephony, call, known)
    return call


def _new_call(
    telephony: Telephony, signal: Signal, started: datetime.datetime, known: "Known"
) -> Call:
    number = caller_number(signal.number)
    call = Call(
        telephony=telephony,
        provider_call_id=signal.call_id,
        direction=signal.direction or Call.IN,
        number=number,
        line=signal.line[:40],
        extension=signal.extension[:30],
        user=_user_of(telephony, signal.extension),
        started_at=started,
    )
    _link_client(telephony, call, known, create=False)
    if not known.careful:  # made meanwhile by another process: the batch is done again
        call.save()
        return call
    try:
        with transaction.atomic():
            call.save()
    except IntegrityError:  # made meanwhile by another process's event of the same call
        return Call.objects.select_for_update().get(
            telephony=telephony, provider_call_id=signal.call_id
        )
    return call


def caller_number(raw: str) -> str:
    """E.164 when the number reads as one (in the company's country, or with the "+"
    a provider leaves off: 79161234567); else as the provider gave it."""
    text = raw.strip()[:40]
    try:
        return normalize_phone(text)
    except PhoneError:
        pass
    digits = "".join(c for c in text if c in "0123456789")
    if len(digits) >= 8 and not text.startswith("+"):
        try:
            return normalize_phone("+" + digits)
        except PhoneError:
            pass
    return text


def _user_of(telephony: Telephony, extension: str) -> User | None:
    if not extension:
        return None
    # The connection's extensions, read once per connection object (a request, a pass).
    if not hasattr(telephony, "_users_by_extension"):
        telephony._users_by_extension = {
            e.number: e.user
            for e in Extension.objects.filter(telephony=telephony, user__is_active=True)
            .select_related("user")
        }  # fmt: skip
    return telephony._users_by_extension.get(extension)


def _link_client(telephony: Telephony, call: Call, known: "Known", *, create: bool) -> None:
    """The client with this number, or (`create`, an incoming call) a new person for the
    team's lead rule; the open deal they have, newest first."""
    if not call.number.startswith("+"):
        return  # a hidden or unreadable number: the call is kept, with nobody
    found = known.client(call.number)
    if found and found[0] == "person":
        call.person = known.person(found[1])
    elif found:
        call.company = Company.objects.get(pk=found[1])
    elif create and call.direction == Call.IN:
        call.person = _new_caller(telephony, call)
        if call.person is not None:
            known.deals[call.person.pk] = None  # a new client has no deal yet
            # Marketing counts them under the channel of the number they called.
            emit("lead.arrived", person_id=call.person.pk, via="call", line=call.line,
                 telephony_id=telephony.pk,
                 at=call.started_at.isoformat() if call.started_at else "")  # fmt: skip
    if call.person_id and not call.company_id:
        call.company_id = call.person.company_id
    if call.person_id or call.company_id:
        call.deal = known.open_deal(call)


def _new_caller(telephony: Telephony, call: Call) -> Person | None:
    actor = acting_user(telephony)
    if actor is None:
        return None
    data = {
        "first_name": display_phone(call.number),
        "phones": [call.number],
        "source": _("phone call"),
        "kind": "lead",
    }
    if telephony.lead_team is not None:
        data["assign_team"] = telephony.lead_team
    else:
        data["owner"] = call.user or actor
    try:  # person_create undoes its own writes (a savepoint) when it refuses
        return person_create(actor=actor, data=data)
    except ValidationError:  # the team or the owner refused: the caller is still kept
        log.warning("telephony %s: a new caller made without %s", telephony.pk, data)
        data.pop("assign_team", None)
        data["owner"] = actor
        return person_create(actor=actor, data=data)


def acting_user(telephony: Telephony) -> User | None:
    """Who the connection's writes are made as: the admin who set it up (as a rule acts
    as its author), else the first active administrator."""
    if telephony.created_by_id and telephony.created_by.sets_up_company:
        return telephony.created_by
    users = User.objects.filter(is_active=True).select_related("role").order_by("pk")[:500]
    return next((user for user in users if user.sets_up_company), None)


def _state(call: Call) -> str:
    if call.ended_at is None:
        return Call.TALKING if call.answered_at else Call.RINGING
    if call.answered_at:
        return Call.ENDED
    return Call.MISSED if call.direction == Call.IN else Call.NOT_REACHED


def _ended(telephony: Telephony, call: Call, known: "Known") -> None:
    """Once, when the call ends: the timelines, the client contacted, a missed call's
    task, a returned call's task closed, the events."""
    summary = {
        "call_id": call.pk,
        "direction": call.direction,
        "state": call.state,
        "duration": call.duration,
        "number": call.number,
        "user": str(call.user) if call.user_id else "",
    }
    # A missed call is the caller's doing (the entry names their number), not the one
    # whose phone rang.
    actor = None if call.state == Call.MISSED else call.user
    for subject in (call.person, call.company, call.deal):
        if subject is not None:
            timeline_record(
                subject=subject, kind="call", actor=actor, data=summary,
                occurred_at=call.started_at,
            )  # fmt: skip
    if call.answered_at and call.client is not None:
        client_contacted(record=call.client, at=call.ended_at)
    stats_call(
        at=call.started_at, user_id=call.user_id,
        incoming=call.direction == Call.IN and call.state == Call.ENDED,
        outgoing=call.direction == Call.OUT, missed=call.state == Call.MISSED,
    )  # fmt: skip
    # The steps below read calls: the batch's changed ones are written first.
    if call.state == Call.MISSED:
        # Only a number missed before may have a "call back" task open already; for the
        # others nothing is looked up, so the batch's changed calls need not be written.
        look_back = known.waiting(call.number)
        known.missed(call)
        if look_back:
            known.write()
        _aside(_call_back_task, telephony, call, known, look_back=look_back)
        emit("call.missed", call_id=call.pk, person_id=call.person_id, deal_id=call.deal_id,
             number=call.number)  # fmt: skip
    elif call.answered_at and known.may_return(call):
        known.write()
        _aside(_returned, telephony, call, known)
    emit(
        "call.ended",
        call_id=call.pk,
        person_id=call.person_id,
        company_id=call.company_id,
        deal_id=call.deal_id,
        direction=call.direction,
        state=call.state,
        duration=call.duration,
    )


def _aside(step, telephony: Telephony, call: Call, known: "Known", **options) -> None:
    """What follows from a call (its task, closing the tasks it returns): should it fail,
    the call itself is still kept, on the timelines, and the failure logged. (A batch
    that fails is applied again event by event, `careful`ly: this step in a savepoint.)"""
    if not known.careful:
        step(telephony, call, known, **options)
        return
    try:
        with transaction.atomic():
            step(telephony, call, known, **options)
    except Exception:
        log.exception("call %s: %s failed", call.pk, step.__name__)


def _call_back_task(
    telephony: Telephony, call: Call, known: "Known", *, look_back: bool = True
) -> None:
    """A missed call's "call back", for the client's owner (or the connection's admin),
    due within the connection's call-back time; one open per number is enough (an
    earlier missed call's is looked for unless `look_back` is False: none can be open)."""
    # The number's missed calls first (on its index), then their tasks: joined, the
    # planner may start from every open task.
    tasks = list(
        Call.objects.filter(number=call.number, state=Call.MISSED, returned_at__isnull=True,
                            task__isnull=False)
        .exclude(pk=call.pk)
        .values_list("task_id", flat=True)[:50]
    ) if look_back and call.number.startswith("+") else []  # fmt: skip
    earlier = (
        Task.objects.filter(pk__in=tasks, status=Task.OPEN).values_list("pk", flat=True).first()
        if tasks
        else None
    )
    if earlier:
        Call.objects.filter(pk=call.pk).update(task_id=earlier)
        return
    actor = acting_user(telephony)
    if actor is None:
        return
    client = call.client
    owner = known.user(client.owner_id) if client is not None and client.owner_id else None
    assignee = owner or call.user or actor
    if not assignee.is_active:
        assignee = actor
    name = str(client) if client is not None else display_phone(call.number)
    task = task_create(
        actor=actor,
        data={
            "title": _("Call back %(name)s") % {"name": name},
            "kind": "call",
            "assignee": assignee,
            "due_at": call.ended_at + timedelta(minutes=telephony.callback_minutes),
            "person": call.person,
            "company": call.company if call.person_id is None else None,
            "deal": call.deal,
            "description": _("Missed call from %(number)s.")
            % {"number": display_phone(call.number)},
        },
        allow_past=True,  # an event that came late: the task is overdue at once
        allow_absent=True,
    )
    Call.objects.filter(pk=call.pk).update(task=task)


def _returned(telephony: Telephony, call: Call, known: "Known") -> None:
    """A talk with a number returns its missed calls: they are marked, and their open
    "call back" tasks done by whoever talked."""
    waiting = {"state": Call.MISSED, "returned_at__isnull": True,
               "started_at__lte": call.started_at}  # fmt: skip
    # By the number, then by the client: each on its index (an OR would read every call).
    missed = set()
    if call.number.startswith("+"):  # "anonymous" is not one caller
        missed |= set(
            Call.objects.filter(number=call.number, **waiting).values_list("pk", "task_id")
        )
    if call.person_id:
        missed |= set(
            Call.objects.filter(person_id=call.person_id, **waiting).values_list("pk", "task_id")
        )
    if not missed:
        return
    returned = Call.objects.filter(pk__in=[pk for pk, _task in missed])
    # How soon each was called back, in working minutes, on the missed call's day and
    # the phone it rang at (as stats_rebuild counts it).
    for started, ended, user_id in returned.values_list("started_at", "ended_at", "user_id"):
        if ended is not None and call.ended_at is not None:
            hours = hours_of(User.objects.filter(pk=user_id).first() if user_id else None)
            stats_call(at=started, user_id=user_id,
                       returned_after=minutes_between(ended, call.ended_at, hours))  # fmt: skip
    returned.update(returned_at=call.ended_at)
    tasks = Task.objects.filter(pk__in={task for _pk, task in missed if task}, status=Task.OPEN)
    for task in tasks:
        # Closed by whoever talked, else its assignee, else the connection's admin: one
        # of them may always change it (an assignee may have left).
        closers = [call.user, task.assignee, acting_user(telephony)]
        closer = next((u for u in closers if u and u.is_active and can_change(u, task)), None)
        if closer is None:
            continue
        task_complete(
            actor=closer,
            task=task,
            result=_("Talked on the phone (%(duration)s).")
            % {"duration": duration_text(call.duration)},
        )


def _moment(text: str) -> datetime.datetime | None:
    return parse_datetime(text) if text else None
