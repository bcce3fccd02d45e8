"""Writes of deals: create, change, move on the board, win, lose, reopen, notes."""

from collections.abc import Collection

from babel.numbers import list_currencies
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.services import person_deal_won, set_tags
from accord.core.company import default_currency
from accord.core.custom_fields import clean_custom_fields
from accord.core.errors import StaleVersion
from accord.core.events import emit
from accord.core.limits import MAX_TAGS, check_counts, length_message
from accord.core.timeline import field_changes, timeline_record
from accord.core.visibility import WRITE, allows
from accord.sales.models import Deal, LostReason, Pipeline, Stage, StageMove
from accord.sales.services.common import RECORD_TYPE, clean_money, require_write

DEAL_FIELDS = [
    "title",
    "person",
    "company",
    "amount",
    "currency",
    "expected_close_date",
    "owner",
    "source",
    "is_preorder",
]


def clean_deal(actor: User, data: dict, current: Deal | None) -> dict:
    errors: dict[str, list[str]] = check_counts(data, {"tags": MAX_TAGS})
    if "title" in data or current is None:
        data["title"] = str(data.get("title") or "").strip()
        if not data["title"]:
            errors["title"] = [_("Give the deal a title.")]
        elif len(data["title"]) > 200:
            errors["title"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    if "currency" in data:
        data["currency"] = str(data["currency"] or "").upper()
        if data["currency"] not in list_currencies():
            errors["currency"] = [
                _("“%(code)s” is not a currency code (e.g. EUR, RUB, ILS, AMD).")
                % {"code": data["currency"]}
            ]
    if "amount" in data:
        data["amount"] = clean_money(data["amount"], "amount", errors)
    if data.get("owner") is not None:
        owner = data["owner"]
        if not owner.is_active:
            errors["owner"] = [_("The owner must be an active user.")]
        elif not allows(
            actor,
            record_type=RECORD_TYPE,
            action=WRITE,
            owner_id=owner.pk,
            owner_team_id=owner.team_id,
        ):
            errors["owner"] = [_("You may not give deals to this person.")]
    if "source" in data:
        data["source"] = str(data["source"] or "").strip()
        if len(data["source"]) > 100:
            errors["source"] = [length_message(100)]
    if "is_preorder" in data and not isinstance(data["is_preorder"], bool):
        errors["is_preorder"] = [_("Say yes or no: true or false.")]
    try:
        data["custom_fields"] = clean_custom_fields(
            "deal", data.get("custom_fields"), current=current.custom_fields if current else None
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return data


def first_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=Stage.OPEN, retired=False).order_by("position").first()
    if stage is None:
        raise ValidationError({"pipeline": [_("This pipeline has no open stage.")]})
    return stage


def snapshot(deal: Deal, tags: list[str] | None = None) -> dict:
    """The deal's values for its timeline; `tags`, when just set, spares reading them."""
    values = {name: getattr(deal, name) for name in DEAL_FIELDS}
    for name in ("person", "company", "owner"):
        values[name] = str(values[name]) if values[name] else None
    values["tags"] = sorted(tags if tags is not None else (tag.name for tag in deal.tags.all()))
    values.update({f"custom_fields.{k}": v for k, v in deal.custom_fields.items()})
    return values


@transaction.atomic
def deal_create(*, actor: User, data: dict) -> Deal:
    """A new open deal, in the first open stage of its pipeline unless a stage is given."""
    require_write(actor)
    data = dict(data)
    data.setdefault("owner", actor)
    data.setdefault("currency", default_currency())
    pipeline = data.pop("pipeline", None) or Pipeline.objects.filter(retired=False).first()
    if pipeline is None:
        raise ValidationError({"pipeline": [_("Create a pipeline first (Settings → Pipelines).")]})
    stage = data.pop("stage", None) or first_stage(pipeline)
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": [_("This stage belongs to another pipeline.")]})
    if stage.kind != Stage.OPEN:
        raise ValidationError({"stage": [_("A new deal starts in an open stage.")]})
    data = clean_deal(actor, data, None)
    now = timezone.now()
    top = Deal.objects.filter(stage=stage).aggregate(low=Min("board_rank"))["low"] or 0
    deal = Deal.objects.create(
        created_by=actor,
        pipeline=pipeline,
        stage=stage,
        stage_entered_at=now,
        board_rank=top - 1,
        custom_fields=data.get("custom_fields") or {},
        **{name: data[name] for name in DEAL_FIELDS if name in data and data[name] is not None},
    )
    if data.get("tags") is not None:
        set_tags(deal, data["tags"])
    StageMove.objects.create(
        deal=deal, pipeline=pipeline, from_stage=None, to_stage=stage, actor=actor, moved_at=now
    )
    timeline_record(subject=deal, kind="created", actor=actor)
    emit("deal.created", deal_id=deal.pk, actor_id=actor.pk)
    return deal


@transaction.atomic
def deal_update(
    *,
    actor: User,
    deal: Deal,
    data: dict,
    version: int | None = None,
    granted: Collection[str] | None = None,
) -> Deal:
    """Change a deal's fields (not its stage: see deal_move, deal_win, deal_lose).

    `granted` names the only fields the actor may set here whatever their role allows
    on deals ("amount", "custom_fields.<key>" …): a task that asks for them on
    completion grants its completer those (accord.work.asks)."""
    # What the checks and the timeline read comes with it (rules change deals in bulk);
    # only the deal's row is locked.
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("owner", "person", "company")
        .prefetch_related("tags")
        .get(pk=deal.pk)
    )
    if granted is None:
        require_write(actor, deal)
    elif not set(_named(data)) <= set(granted):
        raise PermissionDenied(_("You may not change this deal."))
    if version is not None and version != deal.version:
        raise StaleVersion(deal.version)
    if "amount" in data and deal.line_items.exists():
        raise ValidationError({"amount": [_("The amount is the sum of the line items.")]})
    before = snapshot(deal)
    data = clean_deal(actor, dict(data), deal)
    for name in DEAL_FIELDS:
        if name in data:
            setattr(deal, name, data[name])
    deal.custom_fields = data["custom_fields"]
    tags = set_tags(deal, data["tags"]) if data.get("tags") is not None else None
    deal.version += 1
    deal.save()
    after = snapshot(deal, tags)
    # A custom field set for the first time is in `after` only.
    changes = field_changes(before, after, sorted(set(before) | set(after)))
    if changes:
        timeline_record(subject=deal, kind="changed", actor=actor, data={"changes": changes})
    emit(
        "deal.updated",
        deal_id=deal.pk,
        actor_id=actor.pk,
        fields=[change["field"] for change in changes],
        changes=changes,
    )
    return deal


def _named(data: dict) -> list[str]:
    """The fields `data` sets, a custom field as "custom_fields.<key>"."""
    custom = data.get("custom_fields") or {}
    return [
        *(name for name in data if name != "custom_fields"),
        *(f"custom_fields.{key}" for key in custom),
    ]


def record_move(deal: Deal, from_stage: Stage, to_stage: Stage, actor: User, now) -> None:
    seconds = int((now - deal.stage_entered_at).total_seconds()) if deal.stage_entered_at else None
    StageMove.objects.create(
        deal=deal,
        pipeline_id=deal.pipeline_id,
        from_stage=from_stage,
        to_stage=to_stage,
        actor=actor,
        moved_at=now,
        seconds_in_from=max(seconds or 0, 0),
    )
    timeline_record(
        subject=deal,
        kind="stage_changed",
        actor=actor,
        occurred_at=now,
        data={"from": from_stage.name, "to": to_stage.name},
    )


def rank_between(stage: Stage, after: Deal | None) -> float:
    """A board rank that puts the card right below `after` (or on top of the column)."""
    column = Deal.objects.filter(stage=stage)
    if after is None:
        low = column.aggregate(low=Min("board_rank"))["low"]
        return (low if low is not None else 0) - 1
    below = column.filter(board_rank__gt=after.board_rank).aggregate(n=Min("board_rank"))["n"]
    return after.board_rank + 1 if below is None else (after.board_rank + below) / 2


@transaction.atomic
def deal_move(
    *, actor: User, deal: Deal, stage: Stage, after: Deal | None = None, version: int | None = None
) -> Deal:
    """Move a deal to another open stage of its pipeline (or reorder it in its column)."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_write(actor, deal)
    if version is not None and version != deal.version:
        raise StaleVersion(deal.version)
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": [_("This stage belongs to another pipeline.")]})
    if stage.retired:
        raise ValidationError({"stage": [_("This stage is retired.")]})
    if stage.kind == Stage.WON:
        raise ValidationError({"stage": [_("Close the deal as won instead.")]})
    if stage.kind == Stage.LOST:
        raise ValidationError({"stage": [_("Close the deal as lost, with a reason, instead.")]})
    if after is not None and after.stage_id != stage.pk:
        after = None
    now = timezone.now()
    from_stage_id = deal.stage_id
    if stage.pk != deal.stage_id:
        record_move(deal, deal.stage, stage, actor, now)
        deal.stage, deal.stage_entered_at = stage, now
        deal.status, deal.closed_at, deal.lost_reason, deal.lost_note = Deal.OPEN, None, None, ""
    deal.board_rank = rank_between(stage, after)
    deal.version += 1
    deal.save()
    if stage.pk != from_stage_id:  # a reorder within the column is no stage change
        emit("deal.stage_changed", deal_id=deal.pk, stage_id=stage.pk,
             from_stage_id=from_stage_id, actor_id=actor.pk)  # fmt: skip
    return deal


def close(actor: User, deal: Deal, kind: str, version: int | None) -> tuple[Deal, Stage]:
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_write(actor, deal)
    if version is not None and version != deal.version:
        raise StaleVersion(deal.version)
    if deal.status != Deal.OPEN:
        raise ValidationError({"status": [_("The deal is closed already; reopen it first.")]})
    stage = deal.pipeline.stages.filter(kind=kind, retired=False).first()
    if stage is None:
        raise ValidationError({"stage": [_("This pipeline has no stage for closed deals.")]})
    now = timezone.now()
    record_move(deal, deal.stage, stage, actor, now)
    deal.stage, deal.stage_entered_at, deal.status, deal.closed_at = stage, now, kind, now
    deal.board_rank = rank_between(stage, None)
    deal.version += 1
    return deal, stage


@transaction.atomic
def deal_win(*, actor: User, deal: Deal, version: int | None = None) -> Deal:
    deal, _stage = close(actor, deal, Deal.WON, version)
    deal.save()
    if deal.person_id:
        won = Deal.objects.filter(person_id=deal.person_id, status=Deal.WON).count()
        person_deal_won(person=deal.person, won_deals=won)
    emit("deal.won", deal_id=deal.pk, actor_id=actor.pk)
    return deal


@transaction.atomic
def deal_lose(
    *,
    actor: User,
    deal: Deal,
    reason: LostReason | None,
    note: str = "",
    version: int | None = None,
) -> Deal:
    if reason is None or reason.retired:
        raise ValidationError({"reason": [_("Choose why the deal was lost.")]})
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": [_("At most %(limit)s characters.") % {"limit": 2000}]})
    deal, _stage = close(actor, deal, Deal.LOST, version)
    deal.lost_reason, deal.lost_note = reason, note
    deal.save()
    timeline_record(
        subject=deal, kind="lost", actor=actor, data={"reason": reason.name, "note": note}
    )
    emit("deal.lost", deal_id=deal.pk, reason_id=reason.pk, actor_id=actor.pk)
    return deal


@transaction.atomic
def deal_reopen(*, actor: User, deal: Deal) -> Deal:
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_write(actor, deal)
    if deal.status == Deal.OPEN:
        return deal
    stage = first_stage(deal.pipeline)
    return deal_move(actor=actor, deal=deal, stage=stage)


@transaction.atomic
def deal_note_add(*, actor: User, deal: Deal, text: str):
    """A note on the deal's timeline (anyone who may see the deal may add one)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("Write something first.")]})
    if len(text) > 10_000:
        raise ValidationError({"text": [_("At most %(limit)s characters.") % {"limit": 10_000}]})
    event = timeline_record(subject=deal, kind="note", actor=actor, data={"text": text})
    emit("note.added", deal_id=deal.pk, actor_id=actor.pk)
    return event


@transaction.atomic
def deal_tags_add(*, actor: User, deal: Deal, names: list[str]) -> list[str]:
    """Add tags to a deal and nothing else (an automation step's way): the tags' links,
    the deal's version, its timeline entry and event — not a whole `deal_update`. The
    deal comes with its owner and tags (read by the caller, prefetched or not). Answers
    the names added; none when it had them all."""
    require_write(actor, deal)
    had = [tag.name for tag in deal.tags.all()]
    known = {name.casefold() for name in had}
    new = [name for name in dict.fromkeys(str(n).strip()[:50] for n in names) if name]
    new = [name for name in new if name.casefold() not in known]
    if not new:
        return []
    errors = check_counts({"tags": [*had, *new]}, {"tags": MAX_TAGS})
    if errors:
        raise ValidationError(errors)
    tags = set_tags(deal, [*had, *new])
    deal.version += 1
    deal.save(update_fields=["version", "updated_at"])
    changes = field_changes({"tags": sorted(had)}, {"tags": sorted(tags)}, ["tags"])
    timeline_record(subject=deal, kind="changed", actor=actor, data={"changes": changes})
    emit("deal.updated", deal_id=deal.pk, actor_id=actor.pk, fields=["tags"], changes=changes)
    return new


@transaction.atomic
def deals_bulk_assign(*, actor: User, deals: list[Deal], owner: User | None) -> int:
    """Hand the selected deals to one owner; all or none (each change on its timeline)."""
    if owner is None:
        raise ValidationError({"owner": [_("Choose the new owner.")]})
    for deal in deals:
        deal_update(actor=actor, deal=deal, data={"owner": owner})
    return len(deals)
