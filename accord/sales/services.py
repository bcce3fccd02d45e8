"""Writes of the sales funnel: pipelines and stages, deals, moves, wins and losses, items.

A deal's amount is the sum of its line items when it has any. Every stage move is
recorded (from, to, who, when, time spent) for the funnel report and the deal page.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.catalog.models import Product
from accord.contacts.services import person_deal_won, set_tags
from accord.core.custom_fields import clean_custom_fields
from accord.core.errors import StaleVersion
from accord.core.events import emit
from accord.core.limits import MAX_TAGS, check_counts, length_message
from accord.core.timeline import field_changes, timeline_record
from accord.core.visibility import ALL, NONE, WRITE, allows, effective_level, may_change
from accord.sales.models import Deal, LineItem, LostReason, Pipeline, Stage, StageMove

RECORD_TYPE = "deals"
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
HEX_COLOUR = "0123456789abcdefABCDEF"


# --- Permission ------------------------------------------------------------------------


def require_write(actor: User, deal: Deal | None = None) -> None:
    if effective_level(actor, RECORD_TYPE, WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow changing deals."))
    if deal is not None and not can_change(actor, deal):
        raise PermissionDenied(_("You may not change this deal."))


def can_change(actor: User, deal: Deal) -> bool:
    return may_change(actor, RECORD_TYPE, deal.owner)


def require_settings(actor: User) -> None:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change pipelines."))


# --- Pipelines, stages, lost reasons ------------------------------------------------------


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


# --- Deals -------------------------------------------------------------------------------------


def clean_money(value: Any, field: str, errors: dict, *, low=Decimal(0), high=Decimal(10**12)):
    try:
        number = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or not low <= number < high:
        errors[field] = [_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return None
    return number


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
    data.setdefault("currency", settings.ACCORD_CURRENCY)
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
def deal_update(*, actor: User, deal: Deal, data: dict, version: int | None = None) -> Deal:
    """Change a deal's fields (not its stage: see deal_move, deal_win, deal_lose)."""
    # What the checks and the timeline read comes with it (rules change deals in bulk);
    # only the deal's row is locked.
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("owner", "person", "company")
        .prefetch_related("tags")
        .get(pk=deal.pk)
    )
    require_write(actor, deal)
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
    changes = field_changes(before, snapshot(deal, tags), sorted(before))
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


# --- Line items -----------------------------------------------------------------------------


def recompute_amount(deal: Deal) -> None:
    items = list(deal.line_items.all())
    deal.amount = sum((item.total for item in items), Decimal(0))
    deal.version += 1
    deal.save(update_fields=["amount", "version", "updated_at"])


@transaction.atomic
def line_item_save(
    *, actor: User, deal: Deal, data: dict, item: LineItem | None = None
) -> LineItem:
    """Add or change a line item; the deal's amount becomes the sum of its items."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_write(actor, deal)
    errors: dict[str, list[str]] = {}
    product = data.get("product")
    if product is not None and product.currency != deal.currency:
        errors["product"] = [
            _("The product is priced in %(currency)s, the deal in another currency.")
            % {"currency": product.currency}
        ]
    name = str(data.get("name") or (product.name if product else "")).strip()
    if not name:
        errors["name"] = [_("Name the item or pick a product.")]
    price = data.get("unit_price", product.price if product else None)
    values = {
        "quantity": clean_money(data.get("quantity", 1), "quantity", errors, low=Decimal("0.001")),
        "unit_price": clean_money(price if price is not None else "", "unit_price", errors),
        "discount_percent": clean_money(
            data.get("discount_percent", 0), "discount_percent", errors, high=Decimal("100.01")
        ),
        "tax_percent": clean_money(
            data.get("tax_percent", 0), "tax_percent", errors, high=Decimal("100.01")
        ),
    }
    if errors:
        raise ValidationError(errors)
    if item is None:
        position = (deal.line_items.aggregate(n=Max("position"))["n"] or 0) + 1
        item = LineItem(deal=deal, position=position)
    item.product, item.name = product, name[:200]
    item.unit = str(data.get("unit") or (product.unit if product else ""))[:20]
    for field, value in values.items():
        setattr(item, field, value)
    item.save()
    recompute_amount(deal)
    timeline_record(
        subject=deal,
        kind="changed",
        actor=actor,
        data={"changes": [{"field": "amount", "old": None, "new": str(deal.amount)}]},
    )
    return item


@transaction.atomic
def line_item_delete(*, actor: User, item: LineItem) -> None:
    deal = Deal.objects.select_for_update().get(pk=item.deal_id)
    require_write(actor, deal)
    item.delete()
    recompute_amount(deal)


# --- Catalogue ----------------------------------------------------------------------------------


@transaction.atomic
def product_save(*, actor: User, data: dict, product: Product | None = None) -> Product:
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name", product.name if product else "")).strip()
    if not name:
        errors["name"] = [_("Give the product a name.")]
    currency = str(
        data.get("currency", product.currency if product else settings.ACCORD_CURRENCY)
    ).upper()
    if currency not in list_currencies():
        errors["currency"] = [
            _("“%(code)s” is not a currency code (e.g. EUR, RUB, ILS, AMD).") % {"code": currency}
        ]
    price = clean_money(data.get("price", product.price if product else ""), "price", errors)
    kind = data.get("kind", product.kind if product else "product")
    if kind not in dict(Product.KINDS):
        errors["kind"] = [_("A product or a service.")]
    sku = str(data.get("sku", product.sku if product else "")).strip()[:64]
    if sku and Product.objects.filter(sku=sku).exclude(pk=product.pk if product else None).exists():
        errors["sku"] = [_("Another product has this SKU.")]
    if errors:
        raise ValidationError(errors)
    product = product or Product(created_by=actor)
    product.name, product.currency, product.price, product.kind, product.sku = (
        name[:200],
        currency,
        price,
        kind,
        sku,
    )
    product.unit = str(data.get("unit", product.unit or "pcs"))[:20] or "pcs"
    product.active = bool(data.get("active", product.active if product.pk else True))
    product.description = str(data.get("description", product.description))[:2000]
    product.save()
    return product


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
