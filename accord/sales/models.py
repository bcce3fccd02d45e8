"""Pipelines, their stages, deals with line items, lost reasons and every stage move."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record

CENT = Decimal("0.01")


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        # The shipped names are in the catalogue; an admin's own show as typed.
        return gettext(self.name)


class Stage(models.Model):
    OPEN, WON, LOST = "open", "won", "lost"
    KINDS = [(OPEN, _("Open")), (WON, _("Won")), (LOST, _("Lost"))]

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=5, choices=KINDS, default=OPEN)
    position = models.PositiveSmallIntegerField(default=0)
    color = models.CharField(_("colour"), max_length=7, default="#3b5bdb")
    probability = models.PositiveSmallIntegerField(_("win probability, %"), default=10)
    rotting_days = models.PositiveSmallIntegerField(
        _("rotting after (days)"), null=True, blank=True
    )
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["pipeline_id", "position", "id"]

    def __str__(self) -> str:
        return gettext(self.name)


class LostReason(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return gettext(self.name)


class Deal(Record):
    OPEN, WON, LOST = Stage.OPEN, Stage.WON, Stage.LOST
    STATUSES = Stage.KINDS

    title = models.CharField(_("title"), max_length=200)
    person = models.ForeignKey(
        "contacts.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT)
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    status = models.CharField(_("status"), max_length=5, choices=STATUSES, default=OPEN)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    tags = models.ManyToManyField("contacts.Tag", blank=True, related_name="deals")
    is_preorder = models.BooleanField(_("pre-order"), default=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, verbose_name=_("lost reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    lost_note = models.TextField(_("why it was lost"), blank=True, max_length=2000)
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    # Order of the cards in a board column: smaller first; moves pick a value between.
    board_rank = models.FloatField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["stage", "board_rank", "id"], name="deal_board_column"),
            # Also the board's counts and sums per stage, read from the index alone.
            models.Index(
                fields=["pipeline", "status", "stage", "amount"], name="deal_pipeline_status"
            ),
            models.Index(fields=["-updated_at", "-id"], name="deal_updated_keyset"),
            models.Index(fields=["title", "id"], name="deal_title_keyset"),
            models.Index(fields=["owner", "status"], name="deal_owner_status"),
            # The forecast's open deals by expected month (late, dated, undated: NULLs are
            # in it), a few among the closed ones: PostgreSQL scanned them all, four times.
            models.Index(
                fields=["expected_close_date"],
                condition=models.Q(status="open"),
                name="deal_open_close_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class LineItem(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=0
    )
    tax_percent = models.DecimalField(_("tax, %"), max_digits=5, decimal_places=2, default=0)
    tax_included = models.BooleanField(_("tax included in the price"), default=False)
    position = models.PositiveSmallIntegerField(default=0)
    # Where its price and discount came from: a price list, a formula, a personal discount.
    pricing = models.CharField(_("how it was priced"), max_length=300, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def total(self) -> Decimal:
        """With tax: added on top of the price, or already in it."""
        gross = self.quantity * self.unit_price * (1 - self.discount_percent / 100)
        if self.tax_included:
            return gross.quantize(CENT, rounding=ROUND_HALF_UP)
        return (gross * (1 + self.tax_percent / 100)).quantize(CENT, rounding=ROUND_HALF_UP)


class StageMove(models.Model):
    """One move of a deal between stages: the raw material of the funnel report."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="moves")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_at = models.DateTimeField()
    seconds_in_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["moved_at", "id"]
        # The funnel report reads these alone: the moves of each (stage left, stage
        # entered) pair in a period, and a stage's moves in the order of the time spent.
        indexes = [
            models.Index(
                fields=["pipeline", "from_stage", "to_stage", "moved_at"], name="stage_move_pair"
            ),
            models.Index(
                fields=["pipeline", "from_stage", "seconds_in_from", "moved_at"],
                name="stage_move_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


class DealDay(models.Model):
    """The deals one owner closed on one day (the company's date) in a pipeline and a
    currency, won or lost, and their sum: the reports' sales over months read these. Kept
    as each deal is saved (`accord.sales.services.deal_days`), counted again from the
    deals after an upgrade or a change of the company's clock."""

    day = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=4)  # won, lost
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "owner", "pipeline", "currency", "status"], name="deal_day_once"
            )
        ]
        indexes = [models.Index(fields=["status", "day"], name="deal_day_status")]

    def __str__(self) -> str:
        return f"{self.day} {self.owner_id} {self.status}: {self.count}"


class DealScore(models.Model):
    """An open deal's chance to be won as learned from the company's own closed deals
    (reports learn it nightly), and the factors that weigh most for this deal."""

    deal = models.OneToOneField(
        Deal, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    probability = models.FloatField()  # 0–1
    # [{"key": "calls", "value": 5, "usual": 2.1, "effect": 0.8, "name": ""}, …], three
    factors = models.JSONField(default=list)
    scored_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.probability:.2f}"

    @property
    def percent(self) -> int:
        return round(self.probability * 100)

    def explained(self) -> list[tuple[str, bool]]:
        """The factors in words, each with whether it raises the chance."""
        texts = {
            "progress": _("How far through the pipeline: %(value)s %% (usually %(usual)s %%)"),
            "age": _("Age: %(value)s days (usually %(usual)s)"),
            "in_stage": _("Days in this stage: %(value)s (usually %(usual)s)"),
            "amount": _("Amount: %(value)s (usually %(usual)s)"),
            "call": _("Calls logged: %(value)s (usually %(usual)s)"),
            "meeting": _("Meetings: %(value)s (usually %(usual)s)"),
            "email": _("E-mails logged: %(value)s (usually %(usual)s)"),
            "visit": _("Visits: %(value)s (usually %(usual)s)"),
            "note": _("Notes: %(value)s (usually %(usual)s)"),
            "purchases": _("The client's earlier purchases: %(value)s (usually %(usual)s)"),
        }
        found = []
        for factor in self.factors:
            if factor["key"] == "channel":
                text = _("Came through %(name)s") if factor["value"] else _("Not through %(name)s")
                found.append((str(text) % {"name": gettext(factor["name"])}, factor["effect"] > 0))
            elif factor["key"] in texts:
                found.append((str(texts[factor["key"]]) % factor, factor["effect"] > 0))
        return found
