"""API: the catalogue — products and services, price lists per currency and client group
(a tag), personal discount rules. Reads for everyone; writes for administrators (the
services refuse anyone else: 403)."""

from decimal import Decimal, InvalidOperation
from typing import Annotated

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.catalog.models import DiscountRule, PriceList, Product
from accord.contacts.models import Tag
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import RecordId, WithId, id_of
from accord.core.limits import LIST_ITEMS
from accord.sales.services.common import require_settings
from accord.sales.services.products import (
    discount_rule_save,
    price_list_prices,
    price_list_save,
    product_save,
)

router = Router(tags=["catalogue"])
CENT = Decimal("0.01")
Money = Annotated[str, Field(max_length=40, description='A decimal number as text: "1250.50"')]
Currency = Annotated[str, Field(max_length=3, description="ISO 4217: EUR, RUB, ILS")]


class ProductOut(WithId):
    name: str
    sku: str
    kind: str
    unit: str
    price: Decimal
    currency: str
    tax_percent: Decimal
    tax_included: bool
    price_formula: str
    active: bool


class ProductIn(Schema):
    name: str | None = None
    sku: str | None = None
    kind: str | None = None
    unit: str | None = None
    price: str | None = None
    currency: str | None = None
    tax_percent: str | None = None
    tax_included: bool | None = None
    price_formula: str | None = None
    active: bool | None = None
    description: str | None = None


class ProductCreate(ProductIn):
    name: str


class PriceListItemOut(Schema):
    product: str
    price: Decimal

    @staticmethod
    def resolve_product(item) -> str:
        return str(item.product_id)


class PriceListOut(WithId):
    name: str
    currency: str
    tag: str | None = Field(description="The client group (a tag's name); null: everyone")
    retired: bool
    items: list[PriceListItemOut] = Field(description="The products it prices, and at what")

    @staticmethod
    def resolve_tag(price_list) -> str | None:
        return price_list.tag.name if price_list.tag_id else None

    @staticmethod
    def resolve_items(price_list) -> list:
        return sorted(price_list.items.all(), key=lambda item: item.product_id)


class PriceListIn(Schema):
    name: str | None = Field(None, max_length=100)
    currency: Currency | None = None
    tag: str | None = Field(
        None, max_length=50, description="For the clients with this tag; null: for everyone"
    )
    retired: bool | None = None


class PriceListCreate(PriceListIn):
    name: str = Field(max_length=100)
    currency: Currency


class PricesIn(Schema):
    prices: Annotated[dict[str, Money | None], Field(max_length=LIST_ITEMS)] = Field(
        description='Product id → its price on the list ("1250.00"); null or "" takes the '
        "product off the list; the products not named keep their price"
    )


class DiscountRuleOut(WithId):
    name: str
    percent: Decimal
    min_paid: Decimal = Field(description="What the client paid at least, in `currency`")
    currency: str
    months: int = Field(description="Over the last so many months")
    retired: bool


class DiscountRuleIn(Schema):
    name: str | None = Field(None, max_length=100)
    percent: Annotated[str, Field(max_length=20, description='"5": 5 % off')] | None = None
    min_paid: Money | None = None
    currency: Currency | None = None
    months: int | None = Field(None, description="1 to 120")
    retired: bool | None = None


class DiscountRuleCreate(DiscountRuleIn):
    name: str = Field(max_length=100)
    percent: Annotated[str, Field(max_length=20, description='"5": 5 % off')]
    min_paid: Money
    currency: Currency
    months: int = Field(12, description="1 to 120")


def check_cents(values: dict[str, object]) -> None:
    """A 422 for a number with more than two decimals, which a money column would round
    (or overflow on); the services read the rest ("Enter a number")."""
    errors = []
    for field, value in values.items():
        try:
            number = Decimal(str(value).replace(",", ".").replace(" ", ""))
        except (InvalidOperation, ValueError):
            continue
        if number.is_finite() and abs(number) < 10**12 and number != number.quantize(CENT):
            errors.append({"field": field, "message": "At most two decimals."})
    if errors:
        raise Problem(422, "The request has invalid values; nothing was saved.", errors=errors)


def without_nulls(data: dict) -> dict:
    """A PATCH's fields, those sent as null left as they are."""
    return {field: value for field, value in data.items() if value is not None}


# --- Products ----------------------------------------------------------------------------


@router.get("/products", response=Page[ProductOut], summary="The catalogue")
def products_list(request, params: Query[ListParams]):
    return paginate(
        Product.objects.filter(active=True),
        params,
        sorts={"name", "created_at"},
        default_sort="name",
    )


@router.post(
    "/products", response={201: ProductOut}, summary="Add a product or service (administrators)"
)
def products_create(request, payload: ProductCreate):
    require_settings(request.auth)
    data = payload.dict(exclude_none=True)
    check_cents({"price": data["price"]} if "price" in data else {})
    try:
        product = product_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, Product.objects.get(pk=product.pk))  # as stored: "9000.00"


@router.patch(
    "/products/{product_id}", response=ProductOut, summary="Change a product (administrators)"
)
def products_update(request, product_id: RecordId, payload: ProductIn):
    product = get_object_or_404(Product, pk=product_id)
    require_settings(request.auth)
    data = payload.dict(exclude_none=True)
    check_cents({"price": data["price"]} if "price" in data else {})
    try:
        product_save(actor=request.auth, product=product, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    return Product.objects.get(pk=product.pk)


# --- Price lists ------------------------------------------------------------------------


def price_lists():
    return PriceList.objects.select_related("tag").prefetch_related("items")


def price_list_data(payload: PriceListIn) -> dict:
    """What the service takes: the tag by its name (an existing tag; null or "": none)."""
    data = payload.dict(exclude_unset=True)
    tag = data.pop("tag", False)
    data = without_nulls(data)
    if tag is not False:
        name = (tag or "").strip()
        found = Tag.objects.filter(name__iexact=name) if name and "\x00" not in name else None
        data["tag"] = found.first() if found is not None else None
        if name and data["tag"] is None:
            raise Problem(
                422,
                "The request has invalid values; nothing was saved.",
                errors=[{"field": "tag", "message": f"No client is tagged “{name}”."}],
            )
    return data


@router.get("/price-lists", response=Page[PriceListOut], summary="Price lists and their prices")
def price_lists_list(request, params: Query[ListParams]):
    return paginate(price_lists(), params, sorts={"name"}, default_sort="name")


@router.post(
    "/price-lists",
    response={201: PriceListOut},
    summary="Add a price list: for a client group (a tag) or everyone (administrators)",
)
def price_lists_create(request, payload: PriceListCreate):
    require_settings(request.auth)
    try:
        made = price_list_save(actor=request.auth, data=price_list_data(payload))
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, price_lists().get(pk=made.pk))


@router.get("/price-lists/{price_list_id}", response=PriceListOut, summary="One price list")
def price_lists_detail(request, price_list_id: RecordId):
    return get_object_or_404(price_lists(), pk=price_list_id)


@router.patch(
    "/price-lists/{price_list_id}",
    response=PriceListOut,
    summary="Change a price list's name, currency, client group or retire it (administrators)",
)
def price_lists_update(request, price_list_id: RecordId, payload: PriceListIn):
    price_list = get_object_or_404(PriceList, pk=price_list_id)
    require_settings(request.auth)
    try:
        price_list_save(actor=request.auth, price_list=price_list, data=price_list_data(payload))
    except ValidationError as error:
        raise invalid(error) from None
    return price_lists().get(pk=price_list.pk)


@router.put(
    "/price-lists/{price_list_id}/prices",
    response=PriceListOut,
    summary="Set or remove the list's price of the products named (administrators)",
    # "price_list_prices_set" would read "setPriceListPrice": the empty last word keeps
    # the plural (accord/api/openapi.py singularises the noun before the verb).
    operation_id="price_list_prices__set",
)
def price_list_prices_set(request, price_list_id: RecordId, payload: PricesIn):
    price_list = get_object_or_404(PriceList, pk=price_list_id)
    require_settings(request.auth)
    field_of = {}  # product id -> the key it was sent as
    errors = []
    for key in payload.prices:
        pk = id_of(key)
        if pk is None:
            errors.append({"field": f"prices.{key}", "message": "No such product."})
        elif pk in field_of:
            errors.append({"field": f"prices.{key}", "message": "The product is named twice."})
        else:
            field_of[pk] = key
    known = set(Product.objects.filter(pk__in=field_of).values_list("pk", flat=True))
    errors += [
        {"field": f"prices.{key}", "message": "No such product."}
        for pk, key in field_of.items()
        if pk not in known
    ]
    if errors:
        raise Problem(422, "The request has invalid values; nothing was saved.", errors=errors)
    prices = {pk: payload.prices[key] for pk, key in field_of.items()}
    check_cents({f"prices.{field_of[pk]}": value for pk, value in prices.items() if value})
    try:
        price_list_prices(actor=request.auth, price_list=price_list, prices=prices)
    except ValidationError as error:
        named = {}  # the service names a price "price_<product id>"
        for field, messages in error.message_dict.items():
            key = field_of.get(id_of(field.removeprefix("price_")))
            named[f"prices.{key}" if key is not None else field] = messages
        raise invalid(ValidationError(named)) from None
    return price_lists().get(pk=price_list.pk)


# --- Personal discounts -----------------------------------------------------------------


@router.get(
    "/discount-rules",
    response=Page[DiscountRuleOut],
    summary="Personal discounts: a percentage off for clients who paid enough lately",
)
def discount_rules_list(request, params: Query[ListParams]):
    return paginate(
        DiscountRule.objects.all(), params, sorts={"name", "min_paid"}, default_sort="name"
    )


@router.post(
    "/discount-rules",
    response={201: DiscountRuleOut},
    summary="Add a personal discount rule (administrators)",
)
def discount_rules_create(request, payload: DiscountRuleCreate):
    require_settings(request.auth)
    data = payload.dict()
    check_cents({field: data[field] for field in ("percent", "min_paid")})
    try:
        rule = discount_rule_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, DiscountRule.objects.get(pk=rule.pk))


@router.patch(
    "/discount-rules/{rule_id}",
    response=DiscountRuleOut,
    summary="Change or retire a personal discount rule (administrators)",
)
def discount_rules_update(request, rule_id: RecordId, payload: DiscountRuleIn):
    rule = get_object_or_404(DiscountRule, pk=rule_id)
    require_settings(request.auth)
    data = without_nulls(payload.dict(exclude_unset=True))
    check_cents({field: data[field] for field in ("percent", "min_paid") if field in data})
    try:
        discount_rule_save(actor=request.auth, rule=rule, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    return DiscountRule.objects.get(pk=rule.pk)
