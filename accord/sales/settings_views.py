"""Settings → Pipelines (stages and lost reasons) and Settings → Products."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.accounts.field_views import settings_admin
from accord.catalog.models import DiscountRule, PriceList, Product
from accord.contacts.models import Tag
from accord.core.company import default_currency
from accord.core.ui.forms import apply_errors
from accord.sales.defaults import COLOURS, DEFAULT_STAGES
from accord.sales.models import LostReason, Pipeline, Stage
from accord.sales.services.pipelines import (
    lost_reason_retire,
    lost_reason_save,
    pipeline_create,
    pipeline_rename,
    pipeline_retire,
    stage_add,
    stage_reorder,
    stage_retire,
    stage_update,
)
from accord.sales.services.products import (
    discount_rule_save,
    formula_fields,
    price_list_prices,
    price_list_save,
    product_save,
)


class StageForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    color = forms.CharField(
        label=gettext_lazy("Colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    probability = forms.IntegerField(
        label=gettext_lazy("Win probability, %"), min_value=0, max_value=100
    )
    rotting_days = forms.IntegerField(
        label=gettext_lazy("Mark a deal as stuck after (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=gettext_lazy("Leave empty to never mark deals in this stage."),
    )


class ProductForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Product.KINDS)
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64, required=False)
    price = forms.CharField(label=gettext_lazy("Price"))
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3)
    unit = forms.CharField(
        label=gettext_lazy("Unit"), max_length=20, help_text=gettext_lazy("pcs, m², hour, visit…")
    )
    tax_percent = forms.CharField(label=gettext_lazy("Tax, %"), required=False, max_length=8)
    tax_included = forms.BooleanField(label=gettext_lazy("Tax included in the price"),
                                      required=False)  # fmt: skip
    price_formula = forms.CharField(
        label=gettext_lazy("Price formula"), required=False, max_length=500,
        help_text=gettext_lazy(
            "Optional: the unit price worked out from the deal's number fields, e.g. "
            "width * height / 1000000 * 4500. + − * / ( ), min, max, round, ceil."
        ),
    )  # fmt: skip
    active = forms.BooleanField(label=gettext_lazy("Offered"), required=False)


class PriceListForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3)
    tag = forms.ModelChoiceField(
        label=gettext_lazy("For the clients tagged"), queryset=Tag.objects.all(), required=False,
        empty_label=gettext_lazy("Everyone"),
    )  # fmt: skip
    retired = forms.BooleanField(label=gettext_lazy("No longer used"), required=False)


class DiscountRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    percent = forms.CharField(label=gettext_lazy("Discount, %"), max_length=8)
    min_paid = forms.CharField(label=gettext_lazy("For clients who paid at least"), max_length=20)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3)
    months = forms.IntegerField(label=gettext_lazy("Over the last months"), min_value=1,
                                max_value=120, initial=12)  # fmt: skip


def errors_to_messages(request, error) -> None:
    messages.error(request, " ".join(getattr(error, "messages", [str(error)])))


@settings_admin
def pipelines(request):
    stages = Stage.objects.annotate(open_deals=Count("deals", filter=Q(deals__status="open")))
    items = Pipeline.objects.prefetch_related(Prefetch("stages", queryset=stages)).order_by(
        "retired", "position", "id"
    )
    return render(
        request,
        "sales/settings_pipelines.html",
        {
            "page_title": _("Pipelines"),
            "section": "pipelines",
            "pipelines": items,
            "reasons": LostReason.objects.order_by("retired", "position"),
        },
    )


@settings_admin
@require_POST
def pipeline_action(request, pipeline_id: int | None = None):
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id) if pipeline_id else None
    action = request.POST.get("action")
    try:
        if action == "create":
            pipeline_create(
                actor=request.user,
                name=request.POST.get("name", ""),
                stages=[
                    {
                        "name": _(name),
                        "kind": kind,
                        "probability": probability,
                        "rotting_days": rotting,
                        "color": COLOURS[index],
                    }
                    for index, (name, kind, probability, rotting) in enumerate(DEFAULT_STAGES)
                ],
            )
        elif action == "rename" and pipeline:
            pipeline_rename(
                actor=request.user, pipeline=pipeline, name=request.POST.get("name", "")
            )
        elif action == "retire" and pipeline:
            pipeline_retire(actor=request.user, pipeline=pipeline)
        elif action == "add-stage" and pipeline:
            stage_add(
                actor=request.user, pipeline=pipeline, data={"name": request.POST.get("name", "")}
            )
        else:
            raise ValidationError(_("Choose what to do."))
    except (ValidationError, PermissionDenied) as error:
        errors_to_messages(request, error)
    else:
        messages.success(request, _("Saved."))
    return redirect("settings_pipelines")


@settings_admin
def stage_edit(request, stage_id: int):
    stage = get_object_or_404(Stage, pk=stage_id)
    form = StageForm(
        request.POST or None,
        initial={
            "name": stage.name,
            "color": stage.color,
            "probability": stage.probability,
            "rotting_days": stage.rotting_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            stage_update(actor=request.user, stage=stage, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("settings_pipelines")
    return render(
        request,
        "sales/settings_stage.html",
        {"page_title": str(stage), "section": "pipelines", "form": form, "stage": stage},
    )


@settings_admin
@require_POST
def stage_action(request, stage_id: int):
    stage = get_object_or_404(Stage, pk=stage_id)
    action = request.POST.get("action")
    try:
        if action in ("up", "down"):
            stage_reorder(actor=request.user, stage=stage, offset=-1 if action == "up" else 1)
        elif action == "retire":
            target = Stage.objects.filter(pk=request.POST.get("move_to") or 0).first()
            stage_retire(actor=request.user, stage=stage, move_to=target)
            messages.success(request, _("The stage is retired."))
    except (ValidationError, PermissionDenied) as error:
        errors_to_messages(request, error)
    return redirect("settings_pipelines")


@settings_admin
@require_POST
def reason_action(request, reason_id: int | None = None):
    reason = get_object_or_404(LostReason, pk=reason_id) if reason_id else None
    action = request.POST.get("action")
    try:
        if action in ("retire", "restore") and reason:
            lost_reason_retire(actor=request.user, reason=reason, retired=action == "retire")
        else:
            lost_reason_save(actor=request.user, reason=reason, name=request.POST.get("name", ""))
    except (ValidationError, PermissionDenied) as error:
        errors_to_messages(request, error)
    return redirect("settings_pipelines")


@settings_admin
def products(request):
    """The catalogue, its price lists and the personal discounts, with a form for each."""
    list_form = PriceListForm(initial={"currency": default_currency()}, prefix="list")
    rule_form = DiscountRuleForm(initial={"currency": default_currency()}, prefix="rule")
    if request.method == "POST":
        adding = request.POST.get("add")
        form = PriceListForm(request.POST, prefix="list") if adding == "list" else \
            DiscountRuleForm(request.POST, prefix="rule")  # fmt: skip
        if form.is_valid():
            try:
                if adding == "list":
                    made = price_list_save(actor=request.user, data=form.cleaned_data)
                    return redirect("price_list_edit", price_list_id=made.pk)
                discount_rule_save(actor=request.user, data=form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("settings_products")
            except ValidationError as error:
                apply_errors(form, error)
        list_form, rule_form = (form, rule_form) if adding == "list" else (list_form, form)
    return render(
        request,
        "sales/settings_products.html",
        {
            "page_title": _("Products"),
            "section": "products",
            "products": Product.objects.order_by("-active", "name"),
            "price_lists": PriceList.objects.select_related("tag").annotate(priced=Count("items")),
            "rules": DiscountRule.objects.all(),
            "list_form": list_form,
            "rule_form": rule_form,
        },
    )


@settings_admin
def price_list_edit(request, price_list_id: int):
    """A price list's name, group and currency, and its price for each product."""
    price_list = get_object_or_404(PriceList, pk=price_list_id)
    form = PriceListForm(request.POST or None, prefix="list", initial={
        "name": price_list.name, "currency": price_list.currency, "tag": price_list.tag_id,
        "retired": price_list.retired,
    })  # fmt: skip
    products = list(Product.objects.filter(active=True).order_by("name"))
    listed = dict(price_list.items.values_list("product_id", "price"))
    errors: dict = {}
    if request.method == "POST" and form.is_valid():
        prices = {p.pk: request.POST.get(f"price_{p.pk}", "") for p in products}
        try:
            price_list_save(actor=request.user, price_list=price_list, data=form.cleaned_data)
            price_list_prices(actor=request.user, price_list=price_list, prices=prices)
        except ValidationError as error:
            errors = error.message_dict
            apply_errors(form, ValidationError({k: v for k, v in errors.items()
                                                if not k.startswith("price_")}))  # fmt: skip
        else:
            messages.success(request, _("Saved."))
            return redirect("settings_products")
    rows = [
        {"product": product, "price": request.POST.get(f"price_{product.pk}",
                                                      listed.get(product.pk, "")),
         "error": (errors.get(f"price_{product.pk}") or [""])[0]}
        for product in products
    ]  # fmt: skip
    return render(request, "sales/settings_price_list.html", {
        "page_title": price_list.name, "section": "products", "form": form, "rows": rows,
        "price_list": price_list,
    })  # fmt: skip


@settings_admin
@require_POST
def discount_rule_retire(request, rule_id: int):
    rule = get_object_or_404(DiscountRule, pk=rule_id)
    discount_rule_save(actor=request.user, rule=rule, data={"retired": not rule.retired})
    return redirect("settings_products")


@settings_admin
def product_edit(request, product_id: int | None = None):
    product = get_object_or_404(Product, pk=product_id) if product_id else None
    initial = {
        "currency": default_currency(),
        "unit": "pcs",
        "active": True,
        "kind": "product",
    }
    if product:
        initial = {name: getattr(product, name) for name in ProductForm.base_fields}
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            product_save(actor=request.user, product=product, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("settings_products")
    title = str(product) if product else _("New product or service")
    return render(
        request,
        "sales/settings_product.html",
        {"page_title": title, "section": "products", "form": form, "product": product,
         "formula_fields": formula_fields()},
    )  # fmt: skip
