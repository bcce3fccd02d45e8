"""API: the current user, users, teams, roles, personal API tokens, absences and work
schedules."""

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.models import Absence, User
from accord.accounts.queries import (
    absence_people,
    roles_for_settings,
    roles_visible_to,
    schedule_of,
    teams_for_settings,
    teams_visible_to,
    tokens_of,
    users_visible_to,
)
from accord.accounts.services.roles import role_delete, role_save
from accord.accounts.services.schedules import absence_add, absence_delete, schedule_save
from accord.accounts.services.teams import team_delete, team_save
from accord.accounts.services.tokens import token_create, token_revoke
from accord.accounts.services.users import user_create, user_set_active, user_update
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, one_of
from accord.core.api.schemas import LocalTime, RecordId, WithId, id_of
from accord.core.company import default_time_zone
from accord.core.errors import field_errors
from accord.core.limits import LIST_ITEMS
from accord.core.visibility import CAPABILITIES

router = Router(tags=["users"])


class RoleOut(Schema):
    slug: str
    name: str

    @staticmethod
    def resolve_name(role) -> str:
        return str(role)


class UserRef(WithId):
    email: str
    full_name: str


class TeamRef(WithId):
    name: str


class UserOut(WithId):
    email: str
    full_name: str
    role: RoleOut | None
    team: TeamRef | None
    is_active: bool


class MeOut(UserOut):
    language: str
    time_zone: str
    theme: str


class MeIn(Schema):
    full_name: str | None = None
    language: str | None = None
    time_zone: str | None = None
    theme: str | None = None


class UserIn(Schema):
    email: str
    full_name: str = ""
    password: str
    role: str
    team: str | None = None


class UserPatch(Schema):
    email: str | None = None
    full_name: str | None = None
    role: str | None = None
    team: str | None = None
    is_active: bool | None = None


class TeamOut(WithId):
    name: str
    head: UserRef | None
    members: list[UserRef]
    escalation_minutes: int | None
    lead_rule: str
    lead_user: UserRef | None

    @staticmethod
    def resolve_members(team) -> list:
        return list(team.members.all())


class TeamIn(Schema):
    name: str
    head: str | None = None
    members: Annotated[list[str], Field(max_length=LIST_ITEMS)] = []
    escalation_minutes: int | None = 60
    lead_rule: Literal["", "round_robin", "least_loaded", "fixed"] = ""
    lead_user: str | None = None


class RoleDetailOut(WithId):
    slug: str
    name: str
    description: str
    access: dict[str, dict[str, str]]
    capabilities: list[str]
    require_two_factor: bool
    takes_leads: bool

    @staticmethod
    def resolve_name(role) -> str:
        return str(role)

    @staticmethod
    def resolve_capabilities(role) -> list[str]:
        return [c for c in CAPABILITIES if role.has_capability(c)]


class RoleIn(Schema):
    name: str
    description: str = ""
    access: dict[str, dict[str, str]]
    capabilities: Annotated[list[str], Field(max_length=LIST_ITEMS)] = []
    require_two_factor: bool = False
    takes_leads: bool = True


class TokenOut(WithId):
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str


class NewTokenOut(TokenOut):
    token: str  # shown once, never again


def invalid(error: ValidationError, detail: str) -> Problem:
    return Problem(422, detail, errors=field_errors(error))


@router.get("/me", response=MeOut, summary="The user making the request")
def me(request):
    return request.auth


@router.patch("/me", response=MeOut, summary="Change my name, language, time zone or theme")
def me_update(request, payload: MeIn):
    try:
        return user_update(
            user=request.auth, actor=request.auth, **payload.dict(exclude_unset=True)
        )
    except ValidationError as error:
        raise invalid(error, "Your profile was not changed.") from None


@router.get("/users", response=Page[UserOut], summary="List users")
def users_list(request, params: Query[ListParams]):
    return paginate(
        users_visible_to(request.auth),
        params,
        sorts={"email", "date_joined", "id"},
        default_sort="email",
    )


@router.get("/users/{user_id}", response=UserOut, summary="One user")
def users_detail(request, user_id: RecordId):
    return get_object_or_404(users_visible_to(request.auth), pk=user_id)


@router.post("/users", response={201: UserOut}, summary="Create a user (administrators)")
def users_create(request, payload: UserIn):
    team = _team_or_problem(request, payload.team)
    try:
        user = user_create(actor=request.auth, email=payload.email, password=payload.password,
                           role=payload.role, full_name=payload.full_name, team=team,
                           must_change_password=True)  # fmt: skip
    except ValidationError as error:
        raise invalid(error, "The user was not created.") from None
    return Status(201, user)


@router.patch("/users/{user_id}", response=UserOut, summary="Change a user (administrators)")
def users_update(request, user_id: RecordId, payload: UserPatch):
    user = get_object_or_404(users_visible_to(request.auth), pk=user_id)
    data = payload.dict(exclude_unset=True)
    changes = {key: data[key] for key in ("email", "full_name") if key in data}
    if "role" in data:
        changes["role"] = roles_visible_to(request.auth).filter(slug=data["role"]).first()
        if changes["role"] is None:
            message = f"No role {data['role']}."
            raise Problem(422, "The user was not changed.",
                          errors=[{"field": "role", "message": message}])  # fmt: skip
    if "team" in data:
        changes["team"] = _team_or_problem(request, data["team"])
    with transaction.atomic():
        try:
            if changes:
                user_update(user=user, actor=request.auth, **changes)
            if data.get("is_active") is not None:
                user_set_active(user=user, actor=request.auth, active=data["is_active"])
        except ValidationError as error:  # leaving the block rolls back a half-change
            raise invalid(error, "The user was not changed.") from None
    return user


def _team_or_problem(request, team_id: str | None):
    if team_id is None:
        return None
    teams = teams_visible_to(request.auth)
    team = teams.filter(pk=id_of(team_id)).first() if id_of(team_id) is not None else None
    if team is None:
        raise Problem(422, "No such team.", errors=[{"field": "team", "message": "No such team."}])
    return team


def _users_or_problem(request, ids: list[str], field: str) -> list:
    numeric = [id_of(i) for i in ids if id_of(i) is not None]
    found = list(users_visible_to(request.auth).filter(pk__in=numeric, is_active=True))
    if len(found) != len(set(ids)):
        raise Problem(422, "No such user.", errors=[{"field": field, "message": "No such user."}])
    return found


# --- Teams and roles (administrators write; everyone may read teams) -----------------


@router.get("/teams", response=list[TeamOut], tags=["teams"], summary="List teams")
def teams_list(request):
    return list(teams_visible_to(request.auth))


@router.post("/teams", response={201: TeamOut}, tags=["teams"], summary="Create a team")
def teams_create(request, payload: TeamIn):
    return Status(201, _team_save(request, None, payload))


@router.put("/teams/{team_id}", response=TeamOut, tags=["teams"], summary="Change a team")
def teams_update(request, team_id: RecordId, payload: TeamIn):
    team = get_object_or_404(teams_for_settings(request.auth), pk=team_id)
    return _team_save(request, team, payload)


@router.delete("/teams/{team_id}", response={204: None}, tags=["teams"], summary="Delete a team")
def teams_delete(request, team_id: RecordId):
    team_delete(
        actor=request.auth, team=get_object_or_404(teams_for_settings(request.auth), pk=team_id)
    )
    return Status(204, None)


def _team_save(request, team, payload: TeamIn):
    head = _users_or_problem(request, [payload.head], "head")[0] if payload.head else None
    members = _users_or_problem(request, payload.members, "members")
    taker = payload.lead_user
    lead_user = _users_or_problem(request, [taker], "lead_user")[0] if taker else None
    try:
        return team_save(
            actor=request.auth,
            team=team,
            name=payload.name,
            head=head,
            members=members,
            escalation_minutes=payload.escalation_minutes,
            lead_rule=payload.lead_rule,
            lead_user=lead_user,
        )
    except ValidationError as error:
        raise invalid(error, "The team was not saved.") from None


@router.get("/roles", response=list[RoleDetailOut], tags=["roles"], summary="List roles")
def roles_list(request):
    return list(roles_visible_to(request.auth))


@router.post("/roles", response={201: RoleDetailOut}, tags=["roles"], summary="Create a role")
def roles_create(request, payload: RoleIn):
    return Status(201, _role_save(request, None, payload))


@router.put("/roles/{role_id}", response=RoleDetailOut, tags=["roles"], summary="Change a role")
def roles_update(request, role_id: RecordId, payload: RoleIn):
    role = get_object_or_404(roles_for_settings(request.auth), pk=role_id)
    return _role_save(request, role, payload)


@router.delete("/roles/{role_id}", response={204: None}, tags=["roles"], summary="Delete a role")
def roles_delete(request, role_id: RecordId):
    role = get_object_or_404(roles_for_settings(request.auth), pk=role_id)
    try:
        role_delete(actor=request.auth, role=role)
    except ValidationError as error:
        raise invalid(error, "The role was not deleted.") from None
    return Status(204, None)


def _role_save(request, role, payload: RoleIn):
    try:
        return role_save(actor=request.auth, role=role, **payload.dict())
    except ValidationError as error:
        raise invalid(error, "The role was not saved.") from None


@router.get("/me/tokens", response=list[TokenOut], tags=["tokens"], summary="My API tokens")
def tokens_list(request):
    return list(tokens_of(request.auth))


@router.post(
    "/me/tokens",
    response={201: NewTokenOut},
    tags=["tokens"],
    summary="Create an API token (the secret is in this answer only)",
)
def tokens_create(request, payload: TokenIn):
    try:
        token, key = token_create(user=request.auth, name=payload.name)
    except ValidationError as error:
        raise Problem(422, "The token was not created.", errors=field_errors(error)) from None
    token.token = key
    return Status(201, token)


@router.delete(
    "/me/tokens/{token_id}", response={204: None}, tags=["tokens"], summary="Revoke a token"
)
def tokens_revoke(request, token_id: RecordId):
    token_revoke(token=get_object_or_404(tokens_of(request.auth), pk=token_id))
    return Status(204, None)


# --- Absences and work schedules --------------------------------------------------------


class AbsenceOut(WithId):
    user: str
    kind: str
    starts: date
    ends: date
    note: str

    @staticmethod
    def resolve_user(absence) -> str:
        return str(absence.user_id)


class AbsenceIn(Schema):
    user: str
    kind: Literal["vacation", "sick", "trip", "other"] = "vacation"
    starts: date
    ends: date
    note: str = ""


class ScheduleOut(Schema):
    user: str
    weekdays: list[int]
    starts: LocalTime
    ends: LocalTime
    time_zone: str


class ScheduleIn(Schema):
    weekdays: Annotated[list[int], Field(max_length=7)]
    starts: LocalTime
    ends: LocalTime


@router.get(
    "/absences",
    tags=["absences"],
    response=Page[AbsenceOut],
    summary="Absences (vacations, sick leave)",
)
def absences_list(request, params: Query[ListParams]):
    absences = Absence.objects.filter(user__in=absence_people(request.auth).values("pk"))
    errors = []
    for name, lookup in (("user", "user_id"), ("from", "ends__gte"), ("until", "starts__lte")):
        value = request.GET.get(name, "")
        if not value:
            continue
        try:
            parsed = int(value) if name == "user" else date.fromisoformat(value)
        except ValueError:
            errors.append({"field": name, "message": "Give an id or a date as YYYY-MM-DD."})
            continue
        absences = absences.filter(**{lookup: parsed})
    if errors:
        raise Problem(400, "Bad filter value.", errors=errors)
    return paginate(absences, params, sorts={"starts"}, default_sort="starts")


@router.post("/absences", tags=["absences"], response={201: AbsenceOut}, summary="Enter an absence")
def absences_create(request, payload: AbsenceIn):
    user = one_of(absence_people(request.auth), payload.user, "user")
    data = payload.dict(exclude={"user"})
    try:
        return Status(201, absence_add(actor=request.auth, user=user, **data))
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    except ValidationError as error:
        raise invalid(error, "The absence was not saved.") from None


@router.delete(
    "/absences/{absence_id}", tags=["absences"], response={204: None}, summary="Remove an absence"
)
def absences_delete(request, absence_id: RecordId):
    visible = Absence.objects.filter(user__in=absence_people(request.auth).values("pk"))
    absence = get_object_or_404(visible.select_related("user"), pk=absence_id)
    try:
        absence_delete(actor=request.auth, absence=absence)
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    return Status(204, None)


def schedule_answer(user) -> dict:
    schedule = schedule_of(user)
    return {
        "user": str(user.pk),
        "weekdays": schedule.weekdays,
        "starts": schedule.starts,
        "ends": schedule.ends,
        "time_zone": user.time_zone or default_time_zone(),
    }


@router.get(
    "/schedules/{user_id}",
    tags=["absences"],
    response=ScheduleOut,
    summary="A user's work schedule",
)
def schedules_detail(request, user_id: RecordId):
    return schedule_answer(get_object_or_404(absence_people(request.auth), pk=user_id))


@router.put(
    "/schedules/{user_id}",
    tags=["absences"],
    response=ScheduleOut,
    summary="Set a user's work schedule",
)
def schedules_update(request, user_id: RecordId, payload: ScheduleIn):
    user = get_object_or_404(absence_people(request.auth), pk=user_id)
    try:
        schedule_save(actor=request.auth, user=user, **payload.dict())
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    except ValidationError as error:
        raise invalid(error, "The schedule was not saved.") from None
    return schedule_answer(User.objects.select_related("work_schedule").get(pk=user.pk))
