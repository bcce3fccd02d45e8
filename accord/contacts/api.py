"""API: people and companies — CRUD, filters, keyset pages, ETag/If-Match, notes, timeline."""

from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.models import Team
from accord.accounts.queries import users_visible_to
from accord.contacts.models import ContactPoint
from accord.contacts.queries import (
    COMPANY_SORTS,
    PERSON_SORTS,
    companies_visible_to,
    filter_clients,
    people_visible_to,
    person_data,
    segments_visible_to,
)
from accord.contacts.services.clients import client_delete, note_add
from accord.contacts.services.companies import company_create, company_update
from accord.contacts.services.merge import clients_merge
from accord.contacts.services.people import person_create, person_erase, person_update
from accord.contacts.services.segments import segment_delete, segment_save
from accord.core.api.concurrency import (
    ANSWERS_ETAG,
    CREATES,
    TAKES_IF_MATCH,
    etag_of,
    expected_version,
    stale,
)
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import EventOut, RecordId, WithId, id_of
from accord.core.custom_fields import SORT_ALIAS, sort_by_custom_field
from accord.core.errors import StaleVersion, field_errors
from accord.core.limits import LIST_ITEMS, MAX_EMAILS, MAX_PHONES, MAX_TAGS
from accord.core.timeline import timeline_of

router = Router(tags=["clients"])
LIST_PARAMS = {"limit", "cursor", "sort"}


class PhoneIO(Schema):
    number: str
    label: str = ""


class EmailIO(Schema):
    address: str
    label: str = ""


class Consent(Schema):
    marketing: bool
    given_at: datetime | None
    source: str


class ClientOut(WithId):
    kind: str
    phones: list[PhoneIO]
    emails: list[EmailIO]
    city: str
    country: str
    address: str
    source: str
    owner: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(record) -> str | None:
        return str(record.owner_id) if record.owner_id else None

    @staticmethod
    def resolve_phones(record) -> list[dict]:
        return [
            {"number": p.value, "label": p.label}
            for p in record.contact_points.all()
            if p.kind == ContactPoint.PHONE
        ]

    @staticmethod
    def resolve_emails(record) -> list[dict]:
        return [
            {"address": p.value, "label": p.label}
            for p in record.contact_points.all()
            if p.kind == ContactPoint.EMAIL
        ]

    @staticmethod
    def resolve_tags(record) -> list[str]:
        return [tag.name for tag in record.tags.all()]


class PersonOut(ClientOut):
    first_name: str
    last_name: str
    middle_name: str
    company: str | None
    birthday: date | None
    gender: str
    language: str
    consent: Consent

    @staticmethod
    def resolve_company(person) -> str | None:
        return str(person.company_id) if person.company_id else None

    @staticmethod
    def resolve_consent(person) -> dict:
        return {
            "marketing": person.marketing_consent,
            "given_at": person.consent_at,
            "source": person.consent_source,
        }


class CompanyOut(ClientOut):
    name: str
    website: str


class ClientIn(Schema):
    kind: str | None = None
    phones: Annotated[list[PhoneIO], Field(max_length=MAX_PHONES)] | None = None
    emails: Annotated[list[EmailIO], Field(max_length=MAX_EMAILS)] | None = None
    city: str | None = None
    country: str | None = None
    address: str | None = None
    source: str | None = None
    owner: str | None = None
    tags: Annotated[list[str], Field(max_length=MAX_TAGS)] | None = None
    custom_fields: dict[str, Any] | None = None


class PersonIn(ClientIn):
    """A person's fields; a new person needs at least a first or a last name."""

    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    company: str | None = None
    birthday: str | None = None
    gender: str | None = None
    language: str | None = None
    consent: dict[str, Any] | None = None


class CompanyIn(ClientIn):
    name: str | None = None
    website: str | None = None


class CompanyCreate(CompanyIn):
    name: str


class NoteIn(Schema):
    text: str


class MergeIn(Schema):
    other: str
    take_from_other: Annotated[list[str], Field(max_length=LIST_ITEMS)] = []


class TimelineParams(ListParams):
    kind: str | None = None


def with_details(queryset):
    return queryset.prefetch_related(
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by("position", "id")),
        "tags",
    )


def distributing_team(team_id: str):
    """The team named by "team:<id>" as an owner, when it distributes leads."""

    if id_of(team_id) is None:
        return None
    return Team.objects.exclude(lead_rule="").filter(pk=id_of(team_id)).first()


def to_service_data(request, payload: ClientIn, *, distribute: bool = False) -> dict:
    """The payload as service input: ids become visible records, unknown ids a 422. With
    `distribute` (a new person), an owner "team:<id>" hands the lead to that team's rule."""
    data = payload.dict(exclude_unset=True)
    errors = []
    if isinstance(data.get("owner"), str) and data["owner"].startswith("team:"):
        team = distributing_team(data.pop("owner").removeprefix("team:"))
        if not distribute:
            errors.append(
                {"field": "owner", "message": "A team's rule picks the owner of new people only."}
            )
        elif team is None:
            errors.append({"field": "owner", "message": "No team with a lead rule has this id."})
        else:
            data["assign_team"] = team
    if "owner" in data:
        owner = data["owner"]
        found = (
            users_visible_to(request.auth).filter(pk=id_of(owner)).first()
            if owner and id_of(owner) is not None
            else None
        )
        if owner and found is None:
            errors.append({"field": "owner", "message": "No such user."})
        data["owner"] = found
    if "company" in data:
        company = data["company"]
        found = None
        if company:
            visible = companies_visible_to(request.auth)
            found = visible.filter(pk=id_of(company)).first() if id_of(company) else None
            if found is None:
                errors.append({"field": "company", "message": "No such company."})
        data["company"] = found
    if "phones" in data and data["phones"] is not None:
        data["phones"] = [
            {"number": p["number"], "label": p.get("label", "")} for p in data["phones"]
        ]
    if "emails" in data and data["emails"] is not None:
        data["emails"] = [
            {"address": e["address"], "label": e.get("label", "")} for e in data["emails"]
        ]
    consent = data.pop("consent", None)
    if consent is not None:
        data["marketing_consent"] = bool(consent.get("marketing"))
        data["consent_source"] = str(consent.get("source", ""))
    if errors:
        raise Problem(422, "The request has invalid values.", errors=errors)
    return data


def list_filters(request, record_type: str) -> dict[str, str]:
    """The query's filters; `segment=<id>` brings in a saved segment's filters."""
    filters = {k: v for k, v in request.GET.items() if k not in LIST_PARAMS}
    segment_id = filters.pop("segment", None)
    if segment_id is not None:
        visible = segments_visible_to(request.auth, record_type)
        segment = visible.filter(pk=id_of(segment_id)).first() if id_of(segment_id) else None
        if segment is None:
            raise Problem(
                400,
                "No such segment.",
                errors=[{"field": "segment", "message": "No such segment."}],
            )
        filters = {**segment.filters, **filters}
    return filters


def answer_with_etag(response, record):
    response["ETag"] = etag_of(record)
    return record


def crud(
    kind: str,
    visible,
    sorts: set[str],
    default_sort: str,
    create,
    update,
    schema_in,
    schema_out,
    schema_create=None,
):
    """Registers the same endpoints for people and companies."""
    plural = "people" if kind == "person" else "companies"
    noun = "person" if kind == "person" else "company"

    @router.get(
        f"/{plural}",
        response=Page[schema_out],
        summary=f"List {plural}",
        operation_id=f"{plural}_list",
    )
    def list_(request, params: Query[ListParams]):
        try:
            queryset = filter_clients(
                visible(request.auth), kind, list_filters(request, kind), user=request.auth
            )
        except ValidationError as error:
            raise Problem(
                400, "Unknown filter or bad filter value.", errors=field_errors(error)
            ) from None
        allowed = sorts
        if (params.sort or "").lstrip("-").startswith("cf."):
            try:
                queryset, sort = sort_by_custom_field(queryset, kind, params.sort)
            except ValidationError as error:
                raise Problem(400, "Cannot sort so.", errors=field_errors(error)) from None
            params = params.model_copy(update={"sort": sort})
            allowed = {*sorts, SORT_ALIAS}
        return paginate(with_details(queryset), params, sorts=allowed, default_sort=default_sort)

    @router.post(
        f"/{plural}",
        response={201: schema_out},
        summary=f"Create a {noun}",
        operation_id=f"{plural}_create",
        openapi_extra=CREATES,
    )
    def create_(request, response: HttpResponse, payload: schema_create or schema_in):
        try:
            data = to_service_data(request, payload, distribute=noun == "person")
            record = create(actor=request.auth, data=data)
        except ValidationError as error:
            raise invalid(error) from None
        record = with_details(visible(request.auth)).get(pk=record.pk)
        response["Location"] = f"/api/v1/{plural}/{record.pk}"
        return Status(201, answer_with_etag(response, record))

    @router.get(
        f"/{plural}/{{record_id}}",
        response=schema_out,
        summary=f"One {noun}",
        operation_id=f"{plural}_detail",
        openapi_extra=ANSWERS_ETAG,
    )
    def detail(request, response: HttpResponse, record_id: RecordId):
        record = get_object_or_404(with_details(visible(request.auth)), pk=record_id)
        return answer_with_etag(response, record)

    @router.patch(
        f"/{plural}/{{record_id}}",
        response=schema_out,
        summary=f"Change a {noun} (send If-Match with its ETag)",
        operation_id=f"{plural}_update",
        openapi_extra=TAKES_IF_MATCH,
    )
    def update_(request, response: HttpResponse, record_id: RecordId, payload: schema_in):
        record = get_object_or_404(visible(request.auth), pk=record_id)
        version = expected_version(request, record)
        try:
            record = update(
                actor=request.auth,
                data=to_service_data(request, payload),
                version=version,
                **{noun: record},
            )
        except StaleVersion:
            raise stale(visible(request.auth).get(pk=record_id)) from None
        except ValidationError as error:
            raise invalid(error) from None
        return answer_with_etag(response, with_details(visible(request.auth)).get(pk=record.pk))

    @router.delete(
        f"/{plural}/{{record_id}}",
        response={204: None},
        summary=f"Delete a {noun}",
        operation_id=f"{plural}_delete",
    )
    def delete_(request, record_id: RecordId):
        record = get_object_or_404(visible(request.auth), pk=record_id)
        client_delete(actor=request.auth, record=record)
        return Status(204, None)

    @router.get(
        f"/{plural}/{{record_id}}/timeline",
        response=Page[EventOut],
        summary=f"The {noun}'s history, newest first",
        operation_id=f"{plural}_timeline",
    )
    def timeline(request, record_id: RecordId, params: Query[TimelineParams]):
        record = get_object_or_404(visible(request.auth), pk=record_id)
        events = timeline_of(record, kinds=[params.kind] if params.kind else None)
        return paginate(events, params, sorts={"occurred_at"}, default_sort="-occurred_at")

    @router.post(
        f"/{plural}/{{record_id}}/merge",
        response=schema_out,
        summary=f"Merge another {noun} into this one",
        operation_id=f"{plural}_merge",
        openapi_extra=ANSWERS_ETAG,
    )
    def merge(request, response: HttpResponse, record_id: RecordId, payload: MergeIn):
        record = get_object_or_404(visible(request.auth), pk=record_id)
        other = (
            visible(request.auth).filter(pk=id_of(payload.other)).first()
            if id_of(payload.other) is not None
            else None
        )
        if other is None:
            raise Problem(
                422,
                "No such record to merge.",
                errors=[{"field": "other", "message": "No such record."}],
            )
        try:
            survivor = clients_merge(
                actor=request.auth,
                survivor=record,
                other=other,
                take_from_other=payload.take_from_other,
            )
        except ValidationError as error:
            raise invalid(error) from None
        return answer_with_etag(response, with_details(visible(request.auth)).get(pk=survivor.pk))

    @router.post(
        f"/{plural}/{{record_id}}/notes",
        response={201: EventOut},
        summary=f"Add a note to the {noun}'s timeline",
        operation_id=f"{plural}_note",
    )
    def note(request, record_id: RecordId, payload: NoteIn):
        record = get_object_or_404(visible(request.auth), pk=record_id)
        try:
            return Status(201, note_add(actor=request.auth, record=record, text=payload.text))
        except ValidationError as error:
            raise invalid(error) from None


class SegmentIn(Schema):
    name: str
    record_type: str
    filters: dict[str, str]
    shared: bool = False


class SegmentOut(WithId):
    name: str
    record_type: str
    filters: dict[str, str]
    shared: bool
    owner: str

    @staticmethod
    def resolve_owner(segment) -> str:
        return str(segment.owner_id)


@router.get(
    "/segments", response=list[SegmentOut], tags=["segments"], summary="My and shared segments"
)
def segments_list(request, record_type: str | None = None):
    return list(segments_visible_to(request.auth, record_type))


@router.post("/segments", response={201: SegmentOut}, tags=["segments"], summary="Save a segment")
def segments_create(request, payload: SegmentIn):
    try:
        return Status(201, segment_save(actor=request.auth, **payload.dict()))
    except ValidationError as error:
        raise invalid(error) from None


@router.delete(
    "/segments/{segment_id}", response={204: None}, tags=["segments"], summary="Delete a segment"
)
def segments_delete(request, segment_id: RecordId):
    segment_delete(
        actor=request.auth,
        segment=get_object_or_404(segments_visible_to(request.auth), pk=segment_id),
    )
    return Status(204, None)


@router.get(
    "/people/{record_id}/export",
    response=dict[str, Any],
    summary="Everything held about a person (JSON)",
    operation_id="people_export",
)
def person_export(request, record_id: RecordId):
    return person_data(get_object_or_404(people_visible_to(request.auth), pk=record_id))


@router.post(
    "/people/{record_id}/erase",
    response=PersonOut,
    summary="Erase a person's personal data on their request",
    operation_id="people_erase",
)
def person_erase_endpoint(request, record_id: RecordId):
    person = get_object_or_404(people_visible_to(request.auth), pk=record_id)
    person_erase(actor=request.auth, person=person)
    return with_details(people_visible_to(request.auth)).get(pk=record_id)


crud(
    "person",
    people_visible_to,
    PERSON_SORTS,
    "full_name",
    person_create,
    person_update,
    PersonIn,
    PersonOut,
)
crud(
    "company",
    companies_visible_to,
    COMPANY_SORTS,
    "name",
    company_create,
    company_update,
    CompanyIn,
    CompanyOut,
    CompanyCreate,
)
