"""API: automation rules (list, read, create, change, turn on and off, delete, a dry run
on a record), their runs with each step, and the blueprints (list, install)."""

import json
from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.automation import services
from accord.automation.blueprints import BLUEPRINTS, install
from accord.automation.models import Rule
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import RecordId, WithId
from accord.core.limits import LIST_ITEMS

router = Router(tags=["automation"])


class RuleIn(Schema):
    name: str
    description: str = ""
    subject: str = "deal"
    trigger: str = "created"
    trigger_options: dict[str, Any] = {}
    conditions: dict[str, Any] = {}
    actions: Annotated[list[dict[str, Any]], Field(max_length=LIST_ITEMS)] = []
    enabled: bool = False
    max_depth: int | None = None
    flood_limit: int | None = None


class RuleOut(WithId):
    webhook_path: str | None = None
    name: str
    description: str
    enabled: bool
    subject: str
    trigger: str
    trigger_options: dict[str, Any]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    version: int
    broken: str
    paused_at: datetime | None
    paused_reason: str
    max_depth: int
    flood_limit: int
    blueprint: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_webhook_path(rule) -> str | None:
        """Where another system calls a rule triggered by `webhook` (its secret is in it)."""
        return f"/api/v1/hooks/{rule.secret}" if rule.trigger == "webhook" else None


class SwitchIn(Schema):
    enabled: bool


class TestIn(Schema):
    record_id: RecordId


class StepOut(Schema):
    path: str
    action: str
    status: str
    message: str
    error: str
    attempt: int
    started_at: datetime
    duration_ms: int


class RunOut(WithId):
    rule_id: str
    event: str
    subject_type: str
    subject_id: str | None
    status: str
    dry_run: bool
    depth: int
    due_at: datetime | None
    error: str
    reason: str
    created_at: datetime
    finished_at: datetime | None
    steps: list[StepOut]

    @staticmethod
    def resolve_rule_id(run) -> str:
        return str(run.rule_id)

    @staticmethod
    def resolve_subject_id(run) -> str | None:
        return str(run.subject_id) if run.subject_id is not None else None

    @staticmethod
    def resolve_steps(run) -> list:
        return list(run.steps.all())


class BlueprintOut(Schema):
    name: str
    label: str
    description: str


def allowed(request) -> None:
    if not request.auth.can("manage_automation"):
        raise Problem(403, "Your role does not allow managing automation.")


def run(action) -> Any:
    """A service call whose refusals become problem documents."""
    try:
        return action()
    except ValidationError as error:
        raise invalid(error) from None
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None


@router.get("/rules", response=Page[RuleOut], summary="Automation rules")
def rules_list(request, params: Query[ListParams]):
    allowed(request)
    return paginate(Rule.objects.all(), params, sorts={"name", "updated_at"}, default_sort="name")


@router.post("/rules", response={201: RuleOut}, summary="Create a rule")
def rules_create(request, payload: RuleIn):
    return Status(201, run(lambda: services.rule_save(actor=request.auth, data=payload.dict())))


@router.get("/rules/{rule_id}", response=RuleOut, summary="A rule")
def rules_detail(request, rule_id: RecordId):
    allowed(request)
    return get_object_or_404(Rule, pk=rule_id)


@router.put("/rules/{rule_id}", response=RuleOut, summary="Change a rule (a new version)")
def rules_update(request, rule_id: RecordId, payload: RuleIn):
    allowed(request)
    rule = get_object_or_404(Rule, pk=rule_id)
    return run(lambda: services.rule_save(actor=request.auth, rule=rule, data=payload.dict()))


@router.put("/rules/{rule_id}/enabled", response=RuleOut, summary="Turn a rule on or off")
def rules_switch(request, rule_id: RecordId, payload: SwitchIn):
    allowed(request)
    rule = get_object_or_404(Rule, pk=rule_id)
    return run(lambda: services.rule_enable(actor=request.auth, rule=rule, enabled=payload.enabled))


@router.delete("/rules/{rule_id}", response={204: None}, summary="Delete a rule and its runs")
def rules_delete(request, rule_id: RecordId):
    allowed(request)
    rule = get_object_or_404(Rule, pk=rule_id)
    run(lambda: services.rule_delete(actor=request.auth, rule=rule))
    return Status(204, None)


@router.post("/rules/{rule_id}/test", response=RunOut, summary="A dry run on a record")
def rules_test(request, rule_id: RecordId, payload: TestIn):
    allowed(request)
    rule = get_object_or_404(Rule, pk=rule_id)
    return run(
        lambda: services.rule_run(
            actor=request.auth, rule=rule, record_id=payload.record_id, dry_run=True
        )
    )


@router.get("/rules/{rule_id}/runs", response=Page[RunOut], summary="A rule's runs")
def rules_runs(request, rule_id: RecordId, params: Query[ListParams]):
    allowed(request)
    rule = get_object_or_404(Rule, pk=rule_id)
    runs = rule.runs.prefetch_related("steps")
    return paginate(runs, params, sorts={"created_at"}, default_sort="-created_at")


@router.get("/blueprints", response=list[BlueprintOut], summary="Ready-made rule sets")
def blueprints_list(request):
    allowed(request)
    return [
        BlueprintOut(name=b.name, label=str(b.label), description=str(b.description))
        for b in BLUEPRINTS.values()
    ]


@router.post(
    "/blueprints/{name}/install",
    response={201: list[RuleOut]},
    summary="Install a blueprint (its rules switched off)",
)
def blueprints_install(request, name: str):
    return Status(201, run(lambda: install(actor=request.auth, name=name)))


class CallOut(Schema):
    run_id: str | None
    status: str
    detail: str


MAX_CALL_BYTES = 64 * 1024
HOOKS = "/api/v1/hooks/"


@router.post(
    "/hooks/{secret}",
    auth=None,
    response={200: CallOut, 202: CallOut},
    summary="Call a rule (its trigger: another system calls the rule's web address)",
)
def hooks_call(request, secret: str):
    """The rule's web address is its credential: no token. The body is a JSON object
    naming the record (`id`, or a client's `email` or `phone`) with any plain values the
    steps read as `{{ trigger.<name> }}`. 202 with the run; 200 when the rule's conditions
    do not hold for the record."""

    if len(request.body) > MAX_CALL_BYTES:
        raise Problem(413, f"The body is larger than {MAX_CALL_BYTES // 1024} KiB.")
    try:
        data = json.loads(request.body or b"{}", parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Problem(400, "The request body is not valid JSON.") from None
    try:
        found = run(lambda: services.rule_call(secret=secret, data=data))
    except services.NoSuchHook:
        raise Problem(404, "No rule answers at this address.") from None
    if found is None:
        detail = "The rule's conditions do not hold for this record."
        return Status(200, CallOut(run_id=None, status="skipped", detail=detail))
    return Status(202, CallOut(run_id=str(found.pk), status=found.status, detail=""))


def hook_caller(request) -> str | None:
    """Who calls a rule's web address, for `Idempotency-Key` (registered in apps.py): the
    address itself, its secret being the credential; None when no rule answers there."""
    secret = request.path.removeprefix(HOOKS)
    if not Rule.objects.filter(secret=secret, trigger="webhook", enabled=True).exists():
        return None
    return request.path


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python reads them, JSON has none
