"""Reads about users, teams, roles and tokens, scoped to what the acting user may see."""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from accord.accounts.models import Absence, ApiToken, Role, Team, User, WorkSchedule
from accord.accounts.services.users import password_expired
from accord.core.company import zone_of
from accord.core.models import CompanyProfile
from accord.core.visibility import ALL, READ, TEAM, effective_level
from accord.core.workhours import Hours


def users_visible_to(user: User) -> QuerySet[User]:
    """Every colleague is visible to a logged-in user (names are needed to assign work)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    return User.objects.select_related("role", "team")


def users_for_settings(user: User) -> QuerySet[User]:
    if not user.can("manage_users"):
        return User.objects.none()
    return User.objects.select_related("role", "team").order_by("-is_active", "full_name")


def users_search(user: User, query: str, limit: int = 8) -> list[User]:
    words = query.split()
    if not words:
        return []
    matches = users_visible_to(user).filter(is_active=True)
    for word in words:
        matches = matches.filter(Q(full_name__icontains=word) | Q(email__icontains=word))
    return list(matches.order_by("full_name")[:limit])


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Every logged-in user may see the teams (who works with whom)."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    return Team.objects.select_related("head").prefetch_related("members")


def roles_visible_to(user: User) -> QuerySet[Role]:
    if not user.is_authenticated or not user.is_active:
        return Role.objects.none()
    return Role.objects.all()


def teams_for_settings(user: User) -> QuerySet[Team]:
    if not user.can("manage_users"):
        return Team.objects.none()
    return Team.objects.select_related("head").annotate(member_count=Count("members"))


def roles_for_settings(user: User) -> QuerySet[Role]:
    if not user.can("manage_users"):
        return Role.objects.none()
    return Role.objects.annotate(user_count=Count("user"))


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def pending_login_step(user, *, verified: bool) -> str | None:
    """What a logged-in user must still do before using Accord, as a URL name, or None:
    enter the second factor, set one up (when the role requires it), change the password,
    or — the first administrator — say where the company works.
    """

    has_device = user.has_second_factor
    if has_device and not verified:
        return "login_verify"
    if not has_device and user.role and user.role.require_two_factor:
        return "two_factor"
    if password_expired(user):
        return "password_change"
    if (
        settings.ACCORD_COMPANY_FIRST_STEP
        and user.sets_up_company
        and CompanyProfile.current().set_up_at is None
    ):
        return "company_start"  # the first administrator says where the company works
    return None


def owner_choices(user) -> list[tuple[str, str]]:
    """(id, name) of the active colleagues, for "owner" pickers: one light query."""
    people = users_visible_to(user).filter(is_active=True).order_by("full_name", "email")
    return [
        (str(pk), name or email)
        for pk, name, email in people.values_list("pk", "full_name", "email")
    ]


def people_in_reach(user):
    """Whose work a user may see in reports: everyone, their teams, or themselves."""
    level = effective_level(user, "reports", READ)
    people = User.objects.filter(is_active=True).order_by("full_name", "email")
    if level == ALL:
        return people
    if level == TEAM:
        return people.filter(Q(pk=user.pk) | Q(team_id__in=user.team_scope_ids()))
    return people.filter(pk=user.pk)


# --- Schedules and absences -------------------------------------------------------------


def schedule_of(user):
    """The user's work schedule, or the default one (unsaved) when they have none."""
    try:
        return user.work_schedule
    except WorkSchedule.DoesNotExist:
        return WorkSchedule(user=user)


def hours_of(user) -> Hours:
    """When the user works, for deadlines and response times in working hours: their
    schedule in their zone; with nobody, the company's default week in its zone."""
    if user is None:
        return Hours(zone=zone_of(None).key)
    schedule = schedule_of(user)
    return Hours(days=tuple(schedule.weekdays or ()), starts=schedule.starts,
                 ends=schedule.ends, zone=zone_of(user.time_zone).key)  # fmt: skip


def local_moment(user, now: datetime) -> datetime:
    """`now` on the user's clock (their time zone, else the site's)."""

    return now.astimezone(zone_of(user.time_zone))


def absences_around(user_ids, now: datetime) -> dict[int, list]:
    """Each user's absences that may cover `now` on some clock of the world."""
    today = now.date()
    found: dict[int, list] = {}
    for absence in Absence.objects.filter(
        user__in=user_ids,
        starts__lte=today + timedelta(days=1),
        ends__gte=today - timedelta(days=1),
    ):
        found.setdefault(absence.user_id, []).append(absence)
    return found


def absence_on(absences: list, day):
    return next((a for a in absences if a.starts <= day <= a.ends), None)


def at_work(user, now: datetime, absences: list) -> bool:
    """Within the user's working hours on a working day, and not away (their clock)."""
    local = local_moment(user, now)
    if absence_on(absences, local.date()):
        return False
    schedule = schedule_of(user)
    return local.weekday() in schedule.weekdays and schedule.starts <= local.time() < schedule.ends


def absence_covering(user, day):
    """The user's absence on `day` (their date), if any."""
    return Absence.objects.filter(user=user, starts__lte=day, ends__gte=day).first()


def time_managed_by(user):
    """Whose schedules and absences `user` may set: their own, their teams' members as a
    head, everyone's with the "manage users" capability."""

    people = User.objects.filter(is_active=True).order_by("full_name", "email")
    if user.can("manage_users"):
        return people
    return people.filter(Q(pk=user.pk) | Q(team__head=user))


@dataclass
class AbsenceRow:
    user: object
    schedule: object
    days: list  # per day of the month: the absence, or None


def absence_calendar(user, first_day) -> tuple[list, list[AbsenceRow]]:
    """The month from `first_day`: its days, and a row per colleague in reach with their
    absences laid over them (the team absence calendar)."""

    length = calendar.monthrange(first_day.year, first_day.month)[1]
    days = [first_day + timedelta(days=n) for n in range(length)]
    people = list(absence_people(user).select_related("work_schedule"))
    spans: dict[int, list] = {}
    for absence in Absence.objects.filter(
        user__in=[p.pk for p in people], starts__lte=days[-1], ends__gte=days[0]
    ):
        spans.setdefault(absence.user_id, []).append(absence)
    rows = []
    for person in people:
        mine = spans.get(person.pk, [])
        rows.append(
            AbsenceRow(
                user=person,
                schedule=schedule_of(person),
                days=[absence_on(mine, d) for d in days],
            )
        )
    return days, rows


def absence_people(user):
    """Whose absences `user` sees in the team absence calendar: their team-mates and
    whoever is in their reach in reports."""

    people = people_in_reach(user)
    if user.team_id is None:
        return people
    mates = User.objects.filter(is_active=True, team_id=user.team_id)
    return (people | mates).distinct().order_by("full_name", "email")


def upcoming_absences(user, today):
    """Absences not yet over of the people in `user`'s absence calendar, soonest first."""
    return Absence.objects.filter(
        user__in=absence_people(user).values("pk"), ends__gte=today
    ).select_related("user")
