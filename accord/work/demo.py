"""The demo company's daily work: a year of calls and meetings, tasks overdue, due today
and coming up for every salesperson, and the notifications the scheduler made of them;
new web leads the sales team's round robin gave out."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from accord.accounts.models import Team, User
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.sales.models import Deal
from accord.work.asks import choices
from accord.work.models import Task
from accord.work.scheduler import tick
from accord.work.services import activity_log, lead_distribute, task_complete, task_create

TASKS = [
    ("call", "Call back about the offer"),
    ("call", "Confirm the measurement time"),
    ("meeting", "Show the samples in the showroom"),
    ("email", "Send the revised offer"),
    ("visit", "Measure the windows on site"),
    ("call", "Ask how the installation went"),
    ("email", "Send the contract for signature"),
]
RESULTS = ["Talked, they want a discount", "No answer, will try again", "Agreed on Thursday",
           "They are comparing two offers", "Signed"]  # fmt: skip
CALL_NOTES = ["Asked about delivery times", "Discussed the price of the balcony door",
              "Wants white frames", "Will decide after the holidays", ""]  # fmt: skip


def populate() -> None:
    if Task.objects.exists():
        return
    rng = random.Random(11)
    now = timezone.now()
    Team.objects.filter(head__isnull=False).update(escalation_minutes=30)
    sellers = list(User.objects.filter(role__slug__in=["manager", "head-of-sales"]))
    for person in Person.objects.filter(owner__in=sellers).select_related("owner", "company"):
        _past_activities(rng, person, now)
    for deal in Deal.objects.filter(status="open").select_related("owner", "person"):
        if rng.random() < 0.75:  # the rest have no next step: Today and the board flag them
            _plan(rng, deal.owner, now, person=deal.person, deal=deal)
    for seller in sellers:
        people = list(Person.objects.filter(owner=seller)[:6])
        for person in people[:3]:
            _plan(rng, seller, now, person=person)
    _web_leads(rng, now)
    tick(timezone.now())  # reminders, overdue notices and escalations, as a worker would


WEB_LEADS = [
    ("Lena", "Brandt", "+4917612345678"), ("Yossi", "Mizrahi", "+972531234567"),
    ("Armen", "Sargsyan", "+37477123456"), ("Ирина", "Волкова", "+79161234567"),
    ("Sofia", "Rossi", "+393471234567"),
]  # fmt: skip


def _web_leads(rng, now) -> None:
    """New leads from the web site over the last days, given out by the Sales team's
    round robin at the moment each came in (within someone's working hours)."""

    team = Team.objects.filter(name="Sales").first()
    admin = User.objects.get(email="admin@example.com")
    if team is None:
        return
    Team.objects.filter(pk=team.pk).update(lead_rule=Team.ROUND_ROBIN)
    team.refresh_from_db()
    local = timezone.localtime(now)
    for days_ago, (first, last, phone) in reversed(list(enumerate(WEB_LEADS, start=1))):
        day = local.date() - timedelta(days=days_ago)
        while day.weekday() > 4:
            day -= timedelta(days=1)
        came = timezone.make_aware(datetime.combine(day, time(rng.choice([10, 11, 14, 15]))))
        person = person_create(
            actor=admin,
            data={
                "first_name": first,
                "last_name": last,
                "kind": "lead",
                "owner": None,
                "phones": [{"number": phone, "label": "mobile"}],
                "source": "Web site",
            },
        )
        lead_distribute(person=person, team=team, now=came)


def _plan(rng, owner, now, **links) -> Task:
    """A task due somewhere from three days ago to ten days ahead, some of them done."""
    kind, title = rng.choice(TASKS)
    local = timezone.localtime(now)
    day = local.date() + timedelta(days=rng.randint(-3, 10))
    hour = rng.choice([9, 10, 11, 12, 14, 15, 16, 17])
    due = timezone.make_aware(datetime.combine(day, time(hour, rng.choice([0, 30]))))
    # A visit about a deal asks for the windows' number and sizes, written onto the deal.
    asks = [name for name in MEASURED if name in dict(choices())] if kind == "visit" else []
    task = task_create(
        actor=owner,
        data={"title": title, "kind": kind, "due_at": due, "remind_minutes": 15,
              "asks": asks if links.get("deal") else [], **links},
        allow_past=True,
        allow_absent=True,
    )  # fmt: skip
    if due < now and rng.random() < 0.4:
        task_complete(
            actor=owner,
            task=task,
            result=rng.choice(RESULTS),
            call={"direction": "out", "outcome": "reached", "duration_minutes": 4}
            if kind == "call"
            else None,
            fields=_measured(task) if task.asks else None,
        )
    return task


MEASURED = ["custom_fields.number_of_windows", "custom_fields.window_sizes"]
SIZES = ["1200×1400", "900×1200", "1460×1420", "600×900", "2100×800 (balcony door)"]


def _measured(task: Task) -> dict:
    """What the measurer found (from the deal's id: the demo's other choices stay)."""
    count = 1 + task.deal_id % 4
    sizes = ", ".join(SIZES[(task.deal_id + n) % len(SIZES)] for n in range(count))
    found = dict(zip(MEASURED, [count, sizes], strict=True))
    return {name: found[name] for name in task.asks}


def _past_activities(rng, person, now) -> None:
    """Calls and meetings spread over the last year, on the person's timeline."""
    for _n in range(rng.randint(0, 4)):
        moment = now - timedelta(days=rng.uniform(1, 365), hours=rng.uniform(0, 8))
        kind = rng.choice(["call", "call", "call", "meeting", "email"])
        call = kind == "call"
        activity_log(
            actor=person.owner,
            data={
                "kind": kind,
                "direction": rng.choice(["out", "out", "in"]) if call else "",
                "outcome": rng.choice(["reached", "reached", "no_answer"]) if call else "",
                "duration_minutes": rng.randint(1, 12) if call else 0,
                "text": rng.choice(CALL_NOTES),
                "occurred_at": moment,
                "person": person,
                "company": person.company,
            },
        )
