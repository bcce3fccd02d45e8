"""API: calls (list and one, as the timelines show them: whoever may see the client or
deal sees the call) and the telephony connections (administrators; never their secret).
Calls come in through the PBX's own address (/hooks/telephony/<token>/, docs/api.md),
not through this API."""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from accord.comms.models import Call, Messenger, Telephony
from accord.comms.queries import calls_visible_to
from accord.comms.services.messengers import (
    hook_url,
    messenger_problem,
    messenger_save,
    messenger_set_webhook,
)
from accord.core.api.concurrency import CREATES
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import RecordId, WithId

router = Router(tags=["calls"])

CALL_FILTERS = {"person", "company", "deal", "user", "state", "direction"}


def ref(value_id) -> str | None:
    return str(value_id) if value_id else None


class CallOut(WithId):
    direction: Literal["in", "out"]
    state: Literal["ringing", "talking", "ended", "missed", "not_reached"]
    number: str
    extension: str
    user: str | None
    person: str | None
    company: str | None
    deal: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int
    has_recording: bool
    returned_at: datetime | None
    task: str | None

    @staticmethod
    def resolve_user(call: Call) -> str | None:
        return ref(call.user_id)

    @staticmethod
    def resolve_person(call: Call) -> str | None:
        return ref(call.person_id)

    @staticmethod
    def resolve_company(call: Call) -> str | None:
        return ref(call.company_id)

    @staticmethod
    def resolve_deal(call: Call) -> str | None:
        return ref(call.deal_id)

    @staticmethod
    def resolve_task(call: Call) -> str | None:
        return ref(call.task_id)

    @staticmethod
    def resolve_has_recording(call: Call) -> bool:
        return bool(call.recording)


class TelephonyOut(WithId):
    name: str
    provider: str
    active: bool
    api_key_set: bool
    secret_set: bool
    lead_team: str | None
    callback_minutes: int
    hook_path: str
    last_event_at: datetime | None
    extensions: dict[str, str]  # extension -> user id

    @staticmethod
    def resolve_api_key_set(telephony: Telephony) -> bool:
        return bool(telephony.api_key_sealed)

    @staticmethod
    def resolve_secret_set(telephony: Telephony) -> bool:
        return bool(telephony.secret_sealed)

    @staticmethod
    def resolve_lead_team(telephony: Telephony) -> str | None:
        return ref(telephony.lead_team_id)

    @staticmethod
    def resolve_hook_path(telephony: Telephony) -> str:
        return f"/hooks/telephony/{telephony.hook_token}/"

    @staticmethod
    def resolve_extensions(telephony: Telephony) -> dict[str, str]:
        return {e.number: str(e.user_id) for e in telephony.extensions.all()}


@router.get(
    "/calls",
    response=Page[CallOut],
    summary="Calls, newest first (filters: person, company, deal, user, state, direction)",
)
def calls_list(request, params: Query[ListParams]):
    found = calls_visible_to(request.auth)
    errors = []
    for name, value in request.GET.items():
        if name in ("limit", "cursor", "sort"):
            continue
        if name not in CALL_FILTERS:
            errors.append({"field": name, "message": f"There is no filter {name}."})
        elif name == "state" and value in dict(Call.STATES):
            found = found.filter(state=value)
        elif name == "direction" and value in dict(Call.DIRECTIONS):
            found = found.filter(direction=value)
        elif name not in ("state", "direction") and value.isdecimal() and len(value) < 18:
            found = found.filter(**{f"{name}_id": int(value)})
        else:
            errors.append({"field": name, "message": "This value is not allowed here."})
    if errors:
        raise Problem(400, "Unknown filter or bad filter value.", errors=errors)
    return paginate(found, params, sorts={"started_at"}, default_sort="-started_at")


@router.get("/calls/{call_id}", response=CallOut, summary="One call")
def calls_detail(request, call_id: RecordId):
    return get_object_or_404(calls_visible_to(request.auth), pk=call_id)


@router.get(
    "/telephony",
    response=Page[TelephonyOut],
    summary="Telephony connections (administrators; the secret is never shown)",
)
def telephony_list(request, params: Query[ListParams]):
    if not request.auth.sets_up_company:
        raise Http404
    found = Telephony.objects.prefetch_related("extensions")
    return paginate(found, params, sorts={"name"}, default_sort="name")


class MessengerTemplate(Schema):
    name: Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
    language: Annotated[str, Field(min_length=2, max_length=10, pattern=r"^[A-Za-z_]+$")]


class MessengerOut(WithId):
    name: str
    provider: Literal["telegram", "whatsapp", "sms", "twilio_sms"]
    channel: Literal["sms", "telegram", "whatsapp"]
    active: bool
    account: str = Field(description="WhatsApp's phone number id; Twilio's account SID")
    sender: str
    token_set: bool = Field(description="A token is stored (it is never shown)")
    secret_set: bool = Field(description="A signing secret is stored (it is never shown)")
    templates: list[MessengerTemplate] = Field(description="WhatsApp's approved templates")
    webhook_url: str = Field(description="Where the provider delivers messages")
    last_event_at: datetime | None
    problems: list[dict] = Field(description="The latest refused deliveries and failed sends")

    @staticmethod
    def resolve_token_set(messenger) -> bool:
        return bool(messenger.token_sealed)

    @staticmethod
    def resolve_secret_set(messenger) -> bool:
        return bool(messenger.secret_sealed)

    @staticmethod
    def resolve_webhook_url(messenger) -> str:
        return hook_url(messenger)


@router.get(
    "/messengers",
    response=Page[MessengerOut],
    summary="Messenger and SMS connections (administrators; tokens and secrets never shown)",
)
def messengers_list(request, params: Query[ListParams]):
    if not request.auth.sets_up_company:
        raise Http404
    return paginate(Messenger.objects.all(), params, sorts={"name"}, default_sort="name")


@router.get("/messengers/{messenger_id}", response=MessengerOut, summary="One connection")
def messengers_detail(request, messenger_id: RecordId):
    if not request.auth.sets_up_company:
        raise Http404
    return get_object_or_404(Messenger, pk=messenger_id)


class MessengerIn(Schema):
    name: Annotated[str, Field(max_length=100)] | None = None
    active: bool | None = None
    token: Annotated[str, Field(max_length=500)] | None = Field(
        None,
        description="Write-only: the bot's token, WhatsApp's access token, Twilio's auth "
        "token, a gateway's key; left out keeps the stored one",
    )
    secret: Annotated[str, Field(max_length=500)] | None = Field(
        None, description="Write-only: WhatsApp's app secret, a gateway's signing secret"
    )
    account: Annotated[str, Field(max_length=100)] | None = None
    sender: Annotated[str, Field(max_length=40)] | None = None
    gateway_url: Annotated[str, Field(max_length=2000)] | None = None
    gateway_method: Literal["json", "form", "get"] | None = None
    gateway_body: Annotated[str, Field(max_length=4000)] | None = None
    templates: Annotated[list[MessengerTemplate], Field(max_length=50)] | None = None


class MessengerCreate(MessengerIn):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    provider: Literal["telegram", "whatsapp", "sms", "twilio_sms"]


def _messenger_data(payload: MessengerIn, messenger: Messenger | None) -> dict:
    data = {name: getattr(messenger, name) for name in MESSENGER_FIELDS} if messenger else {}
    data.update(payload.model_dump(exclude_unset=True, exclude={"templates"}))
    if payload.templates is not None:
        data["templates"] = [t.model_dump() for t in payload.templates]
    return data


MESSENGER_FIELDS = ("name", "active", "account", "sender", "gateway_url", "gateway_method",
                    "gateway_body", "templates", "lead_team")  # fmt: skip


@router.post(
    "/messengers",
    response={201: MessengerOut},
    summary="Connect a messenger or an SMS gateway (administrators)",
    openapi_extra=CREATES,
)
def messengers_create(request, response: HttpResponse, payload: MessengerCreate):
    if not request.auth.sets_up_company:
        raise Http404
    try:
        messenger = messenger_save(actor=request.auth, data=_messenger_data(payload, None))
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/messengers/{messenger.pk}"
    return Status(201, _connected(request, messenger))


@router.patch(
    "/messengers/{messenger_id}",
    response=MessengerOut,
    summary="Change a connection (administrators; token and secret are write-only)",
)
def messengers_update(request, messenger_id: RecordId, payload: MessengerIn):
    if not request.auth.sets_up_company:
        raise Http404
    messenger = get_object_or_404(Messenger, pk=messenger_id)
    try:
        saved = messenger_save(actor=request.auth, data=_messenger_data(payload, messenger),
                               messenger=messenger)  # fmt: skip
    except ValidationError as error:
        raise invalid(error) from None
    return _connected(request, saved)


def _connected(request, messenger: Messenger) -> Messenger:
    """A Telegram bot's webhook set as the screen sets it; Telegram's refusal is kept on
    the connection's `problems` (the connection itself is saved)."""
    if messenger.provider == Messenger.TELEGRAM and messenger.webhook_set_at is None:
        try:
            messenger_set_webhook(actor=request.auth, messenger=messenger,
                                  url=hook_url(messenger))  # fmt: skip
        except ValidationError as error:
            messenger_problem(messenger=messenger, reason=" ".join(error.messages),
                              at=timezone.now())  # fmt: skip
    return Messenger.objects.get(pk=messenger.pk)
