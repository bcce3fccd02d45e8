"""Writes of pipelines, their stages and the reasons a deal is lost (administrators only)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.events import emit
from accord.sales.models import Deal, LostReason, Pipeline, Stage
from accord.sales.services.common import require_settings
from accord.sales.services.deals import record_move

HEX_COLOUR = "0123456789abcdefABCDEF"


def clean_stage(data: dict, errors: dict) -> None:
    if not str(data.get("name", "")).strip():
        errors["name"] = [_("Give the stage a name.")]
    color = str(data.get("color", "#3b5bdb"))
    if len(color) != 7 or color[0] != "#" or any(c not in HEX_COLOUR for c in color[1:]):
        errors["color"] = [_("Give the colour as #rrggbb.")]
    probability = data.get("probability", 0)
    if not isinstance(probability, int) or not 0 <= probability <= 100:
        errors["probability"] = [_("Give a probability from 0 to 100.")]
    rotting = data.get("rotting_days")
    if rotting is not None and (not isinstance(rotting, int) or not 1 <= rotting <= 3650):
        errors["rotting_days"] = [_("Give the days from 1 to 3650, or leave it empty.")]
    if data.get("kind", Stage.OPEN) not in dict(Stage.KINDS):
        errors["kind"] = [_("A stage is open, won or lost.")]


@transaction.atomic
def pipeline_create(*, actor: User, name: str, stages: list[dict]) -> Pipeline:
    """A pipeline with its stages in order; it needs open stages, one won and one lost."""
    require_settings(actor)
    errors: dict[str, list] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Give the pipeline a name.")]
    elif Pipeline.objects.filter(name__iexact=name).exists():
        errors["name"] = [_("A pipeline with this name already exists.")]
    kinds = [stage.get("kind", Stage.OPEN) for stage in stages]
    if kinds.count(Stage.WON) != 1 or kinds.count(Stage.LOST) != 1 or Stage.OPEN not in kinds:
        errors["stages"] = [_("A pipeline needs open stages, one won stage and one lost stage.")]
    for index, stage in enumerate(stages):
        stage_errors: dict = {}
        clean_stage(stage, stage_errors)
        for field, messages in stage_errors.items():
            errors[f"stages.{index}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    pipeline = Pipeline.objects.create(name=name, position=Pipeline.objects.count())
    for position, stage in enumerate(stages):
        Stage.objects.create(
            pipeline=pipeline,
            position=position,
            name=stage["name"].strip(),
            kind=stage.get("kind", Stage.OPEN),
            color=stage.get("color", "#3b5bdb"),
            probability=stage.get("probability", 0),
            rotting_days=stage.get("rotting_days"),
        )
    emit("pipeline.created", pipeline_id=pipeline.pk, actor_id=actor.pk)
    return pipeline


@transaction.atomic
def pipeline_retire(*, actor: User, pipeline: Pipeline) -> Pipeline:
    """Hide a pipeline from the board and new deals; only when no open deal is left in it."""
    require_settings(actor)
    if Deal.objects.filter(pipeline=pipeline, status=Deal.OPEN).exists():
        raise ValidationError(
            {"pipeline": [_("Open deals are in this pipeline; close or move them first.")]}
        )
    pipeline.retired = True
    pipeline.save(update_fields=["retired"])
    return pipeline


@transaction.atomic
def pipeline_rename(*, actor: User, pipeline: Pipeline, name: str) -> Pipeline:
    require_settings(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the pipeline a name.")]})
    if Pipeline.objects.filter(name__iexact=name).exclude(pk=pipeline.pk).exists():
        raise ValidationError({"name": [_("A pipeline with this name already exists.")]})
    pipeline.name = name[:100]
    pipeline.save(update_fields=["name"])
    return pipeline


@transaction.atomic
def stage_add(*, actor: User, pipeline: Pipeline, data: dict) -> Stage:
    """A new open stage, placed after the last open one (before Won and Lost)."""
    require_settings(actor)
    data = {"kind": Stage.OPEN, "color": "#3b5bdb", "probability": 50, "rotting_days": None, **data}
    errors: dict = {}
    clean_stage(data, errors)
    if data["kind"] != Stage.OPEN:
        errors["kind"] = [_("A pipeline has one won and one lost stage; new stages are open.")]
    if errors:
        raise ValidationError(errors)
    stages = list(pipeline.stages.order_by("position", "id"))
    insert_at = next((i for i, s in enumerate(stages) if s.kind != Stage.OPEN), len(stages))
    stage = Stage(
        pipeline=pipeline,
        name=data["name"].strip()[:100],
        kind=Stage.OPEN,
        color=data["color"],
        probability=data["probability"],
        rotting_days=data["rotting_days"],
    )
    stages.insert(insert_at, stage)
    stage.position = insert_at
    stage.save()
    _renumber(stages)
    return stage


@transaction.atomic
def stage_reorder(*, actor: User, stage: Stage, offset: int) -> None:
    """Move an open stage up (-1) or down (+1) among the open stages."""
    require_settings(actor)
    stages = list(stage.pipeline.stages.order_by("position", "id"))
    open_count = sum(1 for s in stages if s.kind == Stage.OPEN)
    index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
    target = max(0, min(open_count - 1, index + offset))
    if stage.kind != Stage.OPEN or target == index:
        return
    stages.insert(target, stages.pop(index))
    _renumber(stages)


def _renumber(stages: list[Stage]) -> None:
    for position, item in enumerate(stages):
        if item.position != position:
            Stage.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def lost_reason_retire(*, actor: User, reason: LostReason, retired: bool = True) -> LostReason:
    require_settings(actor)
    reason.retired = retired
    reason.save(update_fields=["retired"])
    return reason


@transaction.atomic
def stage_update(*, actor: User, stage: Stage, data: dict) -> Stage:
    require_settings(actor)
    merged = {
        "name": stage.name,
        "color": stage.color,
        "probability": stage.probability,
        "rotting_days": stage.rotting_days,
        "kind": stage.kind,
        **data,
    }
    errors: dict = {}
    clean_stage(merged, errors)
    if merged["kind"] != stage.kind:
        errors["kind"] = [_("The type of a stage cannot change; add a new stage instead.")]
    if errors:
        raise ValidationError(errors)
    for name in ("name", "color", "probability", "rotting_days"):
        setattr(stage, name, merged[name].strip() if name == "name" else merged[name])
    stage.save()
    return stage


@transaction.atomic
def stage_retire(*, actor: User, stage: Stage, move_to: Stage | None) -> Stage:
    """Retire a stage; its deals move to `move_to`, a stage of the same pipeline."""
    require_settings(actor)
    if stage.kind != Stage.OPEN:
        raise ValidationError({"stage": [_("The won and lost stages cannot be retired.")]})
    deals = Deal.objects.filter(stage=stage)
    if deals.exists():
        if move_to is None or move_to.pipeline_id != stage.pipeline_id or move_to.pk == stage.pk:
            raise ValidationError(
                {
                    "move_to": [
                        _("Deals are in this stage: choose another stage of the pipeline for them.")
                    ]
                }
            )
        if move_to.kind != stage.kind or move_to.retired:
            raise ValidationError({"move_to": [_("Choose an active stage of the same type.")]})
        now = timezone.now()
        for deal in deals.select_for_update():
            record_move(deal, stage, move_to, actor, now)
        deals.update(stage=move_to, stage_entered_at=now)
    stage.retired = True
    stage.save(update_fields=["retired"])
    return stage


@transaction.atomic
def lost_reason_save(*, actor: User, name: str, reason: LostReason | None = None) -> LostReason:
    require_settings(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the reason a name.")]})
    if (
        LostReason.objects.filter(name__iexact=name)
        .exclude(pk=reason.pk if reason else None)
        .exists()
    ):
        raise ValidationError({"name": [_("This reason exists already.")]})
    if reason is None:
        reason = LostReason(position=LostReason.objects.count())
    reason.name = name
    reason.save()
    return reason
