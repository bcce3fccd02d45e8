"""API: tasks (CRUD, complete, reschedule, cancel, reopen), activities, notifications."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.queries import users_visible_to
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, run_if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import RecordId, WithId
from accord.core.limits import LIST_ITEMS
from accord.sales.queries import deals_visible_to
from accord.work.models import Task
from accord.work.queries import activities_visible_to, notification_text, tasks_visible_to
from accord.work.services import (
    activity_log,
    notifications_read,
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_update,
)

router = Router(tags=["work"])
TASK_SORTS = {"due_at", "created_at", "updated_at"}
TASK_FILTERS = {"status", "assignee", "person", "company", "deal", "kind", "due_before",
                "due_after"}  # fmt: skip


def ref(value_id) -> str | None:
    return str(value_id) if value_id else None


class TaskOut(WithId):
    title: str
    kind: str
    status: str
    due_at: datetime
    all_day: bool
    duration_minutes: int
    assignee: str
    person: str | None
    company: str | None
    deal: str | None
    priority: int
    description: str
    result: str
    remind_minutes: int | None
    asks: list[str] = Field(
        description="The deal's fields completing the task fills in: amount, "
        "expected_close_date, custom_fields.<key>."
    )
    completed_at: datetime | None
    overdue: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_assignee(task) -> str:
        return str(task.assignee_id)

    @staticmethod
    def resolve_person(task) -> str | None:
        return ref(task.person_id)

    @staticmethod
    def resolve_company(task) -> str | None:
        return ref(task.company_id)

    @staticmethod
    def resolve_deal(task) -> str | None:
        return ref(task.deal_id)

    @staticmethod
    def resolve_overdue(task) -> bool:
        return task.is_overdue


class TaskIn(Schema):
    title: str | None = None
    kind: str | None = None
    due_at: datetime | None = None
    all_day: bool | None = None
    duration_minutes: int | None = None
    assignee: str | None = None
    person: str | None = None
    company: str | None = None
    deal: str | None = None
    priority: int | None = None
    description: str | None = None
    remind_minutes: int | None = None
    asks: Annotated[list[str], Field(max_length=LIST_ITEMS)] | None = None
    allow_past: bool = False
    allow_absent: bool = False


class TaskCreate(TaskIn):
    title: str
    due_at: datetime


class CallIn(Schema):
    direction: Literal["in", "out"] = "out"
    outcome: str = ""
    duration_minutes: int = 0


class CompleteIn(Schema):
    result: str = ""
    call: CallIn | None = None
    fields: dict[str, Any] | None = Field(
        None,
        description="A value for each of the deal's fields the task asks for, by the name in "
        "its `asks`; written onto the deal with the completion.",
    )


class RescheduleIn(Schema):
    due_at: datetime
    allow_past: bool = False
    allow_absent: bool = False


class ActivityOut(WithId):
    kind: str
    direction: str
    outcome: str
    duration_minutes: int
    text: str
    occurred_at: datetime
    actor: str | None
    person: str | None
    company: str | None
    deal: str | None
    task: str | None

    @staticmethod
    def resolve_actor(activity) -> str | None:
        return ref(activity.actor_id)

    @staticmethod
    def resolve_person(activity) -> str | None:
        return ref(activity.person_id)

    @staticmethod
    def resolve_company(activity) -> str | None:
        return ref(activity.company_id)

    @staticmethod
    def resolve_deal(activity) -> str | None:
        return ref(activity.deal_id)

    @staticmethod
    def resolve_task(activity) -> str | None:
        return ref(activity.task_id)


class ActivityIn(Schema):
    kind: str
    direction: str = ""
    outcome: str = ""
    duration_minutes: int = 0
    text: str = ""
    occurred_at: datetime | None = None
    person: str | None = None
    company: str | None = None
    deal: str | None = None


class NotificationOut(WithId):
    kind: str
    text: str
    task: str | None
    person: str | None
    link: str | None = Field(description="The page it is about (a conversation given to you).")
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_text(notice) -> str:
        return notification_text(notice)

    @staticmethod
    def resolve_task(notice) -> str | None:
        return ref(notice.task_id)

    @staticmethod
    def resolve_person(notice) -> str | None:
        return ref(notice.person_id)

    @staticmethod
    def resolve_link(notice) -> str | None:
        return notice.data.get("link")


class ReadIn(Schema):
    ids: Annotated[list[RecordId], Field(max_length=LIST_ITEMS)] | None = None


def links(user, data: dict) -> dict:
    for field, queryset in (
        ("person", people_visible_to(user)),
        ("company", companies_visible_to(user)),
        ("deal", deals_visible_to(user)),
        ("assignee", users_visible_to(user).filter(is_active=True)),
    ):
        if field in data:
            data[field] = one_of(queryset, data[field], field)
    return data


def answer(response: HttpResponse, request, task):
    task = tasks_visible_to(request.auth).get(pk=task.pk)
    response["ETag"] = etag_of(task)
    return task


# --- Tasks -----------------------------------------------------------------------------


@router.get("/tasks", response=Page[TaskOut], summary="Tasks (filters, sort, keyset pages)")
def tasks_list(request, params: Query[ListParams]):
    tasks = tasks_visible_to(request.auth)
    errors = []
    for name, value in request.GET.items():
        if name in ("limit", "cursor", "sort"):
            continue
        if name not in TASK_FILTERS:
            errors.append({"field": name, "message": f"There is no filter {name}."})
        elif name == "status" and value in dict(Task.STATUSES):
            tasks = tasks.filter(status=value)
        elif name == "kind" and value in dict(Task.KINDS):
            tasks = tasks.filter(kind=value)
        elif name == "assignee" and value == "me":
            tasks = tasks.filter(assignee=request.auth)
        elif name in ("due_before", "due_after"):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                errors.append({"field": name, "message": "Give an ISO 8601 date and time."})
                continue
            lookup = "lt" if name == "due_before" else "gte"
            tasks = tasks.filter(**{f"due_at__{lookup}": moment})
        elif (
            name in ("assignee", "person", "company", "deal")
            and value.isdecimal()
            and len(value) < 18
        ):
            tasks = tasks.filter(**{f"{name}_id": int(value)})
        else:
            errors.append({"field": name, "message": "This value is not allowed here."})
    if errors:
        raise Problem(400, "Unknown filter or bad filter value.", errors=errors)
    return paginate(tasks, params, sorts=TASK_SORTS, default_sort="due_at")


@router.post("/tasks", response={201: TaskOut}, summary="Create a task", openapi_extra=CREATES)
def tasks_create(request, response: HttpResponse, payload: TaskCreate):
    data = links(request.auth, payload.dict(exclude_unset=True))
    waived = {name: data.pop(name, False) for name in ("allow_past", "allow_absent")}
    try:
        task = task_create(actor=request.auth, data=data, **waived)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/tasks/{task.pk}"
    return Status(201, answer(response, request, task))


@router.get("/tasks/{task_id}", response=TaskOut, summary="One task", openapi_extra=ANSWERS_ETAG)
def tasks_detail(request, response: HttpResponse, task_id: RecordId):
    return answer(response, request, get_object_or_404(tasks_visible_to(request.auth), pk=task_id))


def change(request, response, task_id: int, action):
    """Run a change with If-Match; failures become problem documents."""
    task = run_if_match(request, tasks_visible_to(request.auth), task_id, action)
    return answer(response, request, task)


@router.patch(
    "/tasks/{task_id}",
    response=TaskOut,
    summary="Change a task (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def tasks_update(request, response: HttpResponse, task_id: RecordId, payload: TaskIn):
    data = links(request.auth, payload.dict(exclude_unset=True))
    waived = {name: data.pop(name, False) for name in ("allow_past", "allow_absent")}
    return change(
        request,
        response,
        task_id,
        lambda task, version: task_update(
            actor=request.auth, task=task, data=data, version=version, **waived
        ),
    )


@router.post(
    "/tasks/{task_id}/reschedule",
    response=TaskOut,
    summary="Move the due time",
    openapi_extra=TAKES_IF_MATCH,
)
def tasks_reschedule(request, response: HttpResponse, task_id: RecordId, payload: RescheduleIn):
    return change(
        request,
        response,
        task_id,
        lambda task, version: task_update(
            actor=request.auth,
            task=task,
            data={"due_at": payload.due_at},
            version=version,
            allow_past=payload.allow_past,
            allow_absent=payload.allow_absent,
        ),
    )


@router.post(
    "/tasks/{task_id}/complete",
    response=TaskOut,
    summary="Mark done (log the call)",
    openapi_extra=ANSWERS_ETAG,
)
def tasks_complete(request, response: HttpResponse, task_id: RecordId, payload: CompleteIn):
    call = payload.call.dict() if payload.call else None
    return change(
        request,
        response,
        task_id,
        lambda task, _version: task_complete(
            actor=request.auth, task=task, result=payload.result, call=call, fields=payload.fields
        ),
    )


@router.post(
    "/tasks/{task_id}/cancel",
    response=TaskOut,
    summary="Cancel a task",
    openapi_extra=ANSWERS_ETAG,
)
def tasks_cancel(request, response: HttpResponse, task_id: RecordId):
    return change(
        request, response, task_id, lambda task, _v: task_cancel(actor=request.auth, task=task)
    )


@router.post(
    "/tasks/{task_id}/reopen",
    response=TaskOut,
    summary="Reopen a closed task",
    openapi_extra=ANSWERS_ETAG,
)
def tasks_reopen(request, response: HttpResponse, task_id: RecordId):
    return change(
        request, response, task_id, lambda task, _v: task_reopen(actor=request.auth, task=task)
    )


# --- Activities ------------------------------------------------------------------------


@router.get("/activities", response=Page[ActivityOut], summary="Logged calls, meetings, notes")
def activities_list(request, params: Query[ListParams]):
    activities = activities_visible_to(request.auth)
    for name in ("person", "company", "deal"):
        value = request.GET.get(name, "")
        if value:
            if not value.isdecimal() or len(value) > 18:
                problem = {"field": name, "message": "Give an id."}
                raise Problem(400, "Bad filter value.", errors=[problem])
            activities = activities.filter(**{f"{name}_id": int(value)})
    return paginate(activities, params, sorts={"occurred_at"}, default_sort="-occurred_at")


@router.post("/activities", response={201: ActivityOut}, summary="Log an activity")
def activities_create(request, payload: ActivityIn):
    data = links(request.auth, payload.dict(exclude_unset=True))
    try:
        activity = activity_log(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, activity)


# --- Notifications ---------------------------------------------------------------------


@router.get("/notifications", response=Page[NotificationOut], summary="My notifications")
def notifications_list(request, params: Query[ListParams], unread: bool = False):
    mine = request.auth.notifications.select_related("task")
    if unread:
        mine = mine.filter(read_at=None)
    return paginate(mine, params, sorts={"created_at"}, default_sort="-created_at")


class ReadOut(Schema):
    marked: int


@router.post("/notifications/read", response=ReadOut, summary="Mark read (ids or all)")
def notifications_mark_read(request, payload: ReadIn):
    return {"marked": notifications_read(user=request.auth, ids=payload.ids)}
