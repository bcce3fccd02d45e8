"""Client screens: lists of people and companies, the card with its timeline, forms."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.accounts.queries import owner_choices, users_visible_to
from accord.accounts.services import preference_set
from accord.contacts import columns, forms
from accord.contacts.queries import (
    COMPANY_SORTS,
    PERSON_SORTS,
    companies_visible_to,
    duplicate_pairs,
    filter_clients,
    likely_duplicates,
    people_visible_to,
    person_data,
    search_companies,
    search_people,
    segments_visible_to,
)
from accord.contacts.services import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    can_change,
    client_delete,
    clients_bulk_assign,
    clients_bulk_delete,
    clients_bulk_tag,
    clients_merge,
    company_create,
    company_update,
    note_add,
    person_create,
    person_erase,
    person_update,
    segment_delete,
    segment_save,
)
from accord.core.custom_fields import active_fields, sort_by_custom_field
from accord.core.errors import StaleVersion
from accord.core.pagination import InvalidCursor, keyset_page
from accord.core.phones import PhoneError, display_phone, normalize_phone
from accord.core.ui import records
from accord.core.ui.forms import apply_errors, custom_initial
from accord.core.visibility import may_write

PAGE = 50
LIST_FILTERS = [
    "q",
    "kind",
    "owner",
    "tag",
    "city",
    "no_contact_days",
    "created_after",
    "created_before",
    "has_email",
    "has_phone",
    "open_deal",
]


@dataclass(frozen=True)
class Kind:
    """What differs between the people screens and the company screens."""

    slug: str  # "person" / "company"
    plural: str  # URL segment
    title: str
    new_label: str
    visible: object
    form: type
    create: object
    update: object
    sorts: set
    default_sort: str
    name_field: str


PEOPLE = Kind(
    "person",
    "people",
    gettext_lazy("People"),
    gettext_lazy("New person"),
    people_visible_to,
    forms.PersonForm,
    person_create,
    person_update,
    PERSON_SORTS,
    "full_name",
    "full_name",
)
COMPANIES = Kind(
    "company",
    "companies",
    gettext_lazy("Companies"),
    gettext_lazy("New company"),
    companies_visible_to,
    forms.CompanyForm,
    company_create,
    company_update,
    COMPANY_SORTS,
    "name",
    "name",
)
KINDS = {"people": PEOPLE, "companies": COMPANIES}


def kind_for(plural: str) -> Kind:
    if plural not in KINDS:
        raise Http404
    return KINDS[plural]


def filterable_custom_fields(fields) -> list:
    """Custom fields the filter bar offers: those with a fixed set of values."""
    return [field for field in fields if field.type in ("choice", "multi_choice", "boolean")]


def make_form(kind: Kind, request, data=None, initial=None, *, new: bool = False):
    extra = (
        {"companies": companies_visible_to(request.user), "distribute": new}
        if kind is PEOPLE
        else {}
    )
    return kind.form(data, initial=initial, **extra)


# --- Lists ---------------------------------------------------------------------------


def requested_filters(params, kind: Kind, user, filter_fields=None) -> tuple[dict, object]:
    """The list's filters from a query string, a chosen segment's under them (Http404 for
    a segment the user cannot see); answers (filters, segment)."""
    if filter_fields is None:
        filter_fields = filterable_custom_fields(active_fields(kind.slug))
    names = LIST_FILTERS + [f"cf.{field.key}" for field in filter_fields]
    filters = {name: params[name] for name in names if params.get(name)}
    segment = None
    if params.get("segment", "").isdigit():
        segment = segments_visible_to(user, kind.slug).filter(pk=params["segment"]).first()
        if segment is None:
            raise Http404
        filters = {**segment.filters, **filters}
    return filters, segment


@login_required
def client_list(request, plural: str = "people"):
    kind = kind_for(plural)
    custom_fields = active_fields(kind.slug)
    filter_fields = filterable_custom_fields(custom_fields)
    shown = columns.chosen(request.user, kind.slug, custom_fields)
    segments = segments_visible_to(request.user, kind.slug)
    filters, segment = requested_filters(request.GET, kind, request.user, filter_fields)
    sort = request.GET.get("sort", kind.default_sort)
    if sort.lstrip("-") not in kind.sorts and not sort.lstrip("-").startswith("cf."):
        sort = kind.default_sort
    error = ""
    queryset = kind.visible(request.user)
    if any(column[0] == "tags" for column in shown):
        queryset = queryset.prefetch_related("tags")
    try:
        queryset = filter_clients(queryset, kind.slug, filters, user=request.user)
        page_sort = sort
        if sort.lstrip("-").startswith("cf."):
            queryset, page_sort = sort_by_custom_field(queryset, kind.slug, sort)
        page = keyset_page(queryset, sort=page_sort, cursor=request.GET.get("cursor"), limit=PAGE)
    except (ValidationError, InvalidCursor) as problem:
        error = " ".join(getattr(problem, "messages", [str(problem)]))
        page = keyset_page(kind.visible(request.user).none(), sort=sort, limit=PAGE)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page_title": kind.title,
        "kind": kind,
        "rows": page.items,
        "next_url": f"?{query.urlencode()}&cursor={page.next_cursor}" if page.next_cursor else "",
        "filters": filters,
        "sort": sort,
        "error": error,
        "owners": owner_choices(request.user),
        "can_write": may_write(request.user, "clients"),
        "can_delete": request.user.can("delete"),
        "base_query": query.urlencode(),
        "kind_choices": queryset.model.KINDS,
        "segments": segments,
        "custom_filters": [
            {
                "name": f"cf.{f.key}",
                "label": f.label,
                "type": f.type,
                "choices": f.choices,
                "value": filters.get(f"cf.{f.key}", ""),
            }
            for f in filter_fields
        ],
        "more_filters_open": any(name not in LIST_FILTERS[:6] for name in filters),
        "columns": shown,
        "all_columns": columns.available(kind.slug, custom_fields),
        "segment": segment,
        "filter_query": urlencode(filters),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "contacts/list.html#rows", context)
    return render(request, "contacts/list.html", context)


PICK_LIMIT = 20


@login_required
def pick(request, plural: str):
    """The options of a record picker (web.widgets.RecordPicker): the best matches of
    what was typed that the user may see, the first one chosen."""
    kind = kind_for(plural)
    query = request.GET.get("q", "").strip()
    if len(query) < 2:
        return HttpResponse(status=204)  # htmx keeps the options (and the choice) as they are
    found = search_people if kind is PEOPLE else search_companies
    records = found(request.user, query, limit=PICK_LIMIT)
    options = [
        (record.pk, " · ".join(filter(None, [str(record), contact_hint(record)])))
        for record in records
    ]
    return render(
        request,
        "web/widgets/picker_options.html",
        {"empty": request.GET.get("empty", "—")[:100], "options": options, "query": query},
    )


def contact_hint(record) -> str:
    """What tells namesakes apart in a picker: the e-mail, else the phone."""
    if record.primary_email:
        return record.primary_email
    return display_phone(record.primary_phone) if record.primary_phone else ""


@login_required
@require_POST
def bulk(request, plural: str):
    kind = kind_for(plural)
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    records = list(kind.visible(request.user).filter(pk__in=ids))
    action = request.POST.get("action")
    try:
        if not records:
            raise ValidationError(_("Select at least one row."))
        if action == "assign":
            owner_id = request.POST.get("owner", "")
            owner = (
                users_visible_to(request.user).filter(pk=owner_id).first()
                if owner_id.isdigit() and len(owner_id) < 18
                else None
            )
            done = clients_bulk_assign(actor=request.user, records=records, owner=owner)
            messages.success(request, _("%(count)s clients have a new owner.") % {"count": done})
        elif action == "tag":
            done = clients_bulk_tag(
                actor=request.user, records=records, tag=request.POST.get("tag", "")
            )
            messages.success(request, _("Tag added to %(count)s clients.") % {"count": done})
        elif action == "delete":
            done = clients_bulk_delete(actor=request.user, records=records)
            messages.success(request, _("%(count)s clients deleted.") % {"count": done})
        else:
            raise ValidationError(_("Choose what to do with the selected rows."))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect(reverse("client_list", args=[plural]) + "?" + request.POST.get("query", ""))


@login_required
@require_POST
def choose_columns(request, plural: str):
    kind = kind_for(plural)
    chosen = columns.clean_choice(kind.slug, request.POST.getlist("columns"))
    preference_set(
        user=request.user,
        key="columns",
        value={**request.user.preferences.get("columns", {}), kind.slug: chosen},
    )
    return redirect(reverse("client_list", args=[plural]) + "?" + request.POST.get("query", ""))


@login_required
@require_POST
def segment_create(request, plural: str):
    kind = kind_for(plural)
    filters = dict(QueryDict(request.POST.get("filters", "")).items())
    try:
        segment = segment_save(
            actor=request.user,
            name=request.POST.get("name", ""),
            record_type=kind.slug,
            filters=filters,
            shared=bool(request.POST.get("shared")),
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect(
            reverse("client_list", args=[plural]) + "?" + request.POST.get("filters", "")
        )
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment})
    return redirect(reverse("client_list", args=[plural]) + f"?segment={segment.pk}")


@login_required
@require_POST
def segment_remove(request, plural: str, segment_id: int):
    segment = get_object_or_404(segments_visible_to(request.user), pk=segment_id)
    try:
        segment_delete(actor=request.user, segment=segment)
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("client_list", plural=plural)


# --- Card ------------------------------------------------------------------------------


def timeline_context(request, record, plural: str) -> dict:
    return records.timeline_context(
        request, record, reverse("client_timeline", args=[plural, record.pk])
    )


@login_required
def client_detail(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(
        kind.visible(request.user).prefetch_related("contact_points", "tags"), pk=pk
    )
    context = {
        "page_title": str(record),
        "kind": kind,
        "record": record,
        "can_edit": can_change(request.user, record),
        "note_form": forms.NoteForm(),
        "people": people_visible_to(request.user).filter(company=record)[:20]
        if kind is COMPANIES
        else [],
        "custom_values": records.custom_values(record),
        **timeline_context(request, record, plural),
    }
    return render(request, "contacts/detail.html", context)


@login_required
def client_timeline(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(kind.visible(request.user), pk=pk)
    context = {"kind": kind, "record": record, **timeline_context(request, record, plural)}
    return render(request, "contacts/detail.html#timeline", context)


@login_required
@require_POST
def client_note(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(kind.visible(request.user), pk=pk)
    form = forms.NoteForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            note_add(actor=request.user, record=record, text=form.cleaned_data["text"])
            form = forms.NoteForm()
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
    else:
        status = 422
    context = {
        "kind": kind,
        "record": record,
        "note_form": form,
        **timeline_context(request, record, plural),
    }
    if not request.htmx:
        return redirect("client_detail", plural=plural, pk=pk)
    return render(request, "contacts/detail.html#activity", context, status=status)


# --- Forms ----------------------------------------------------------------------------


def normalised(rows: list[dict], key: str) -> list[str]:
    values = []
    for row in rows:
        if key == "number":
            try:
                values.append(normalize_phone(row["number"]))
            except PhoneError:
                continue
        else:
            values.append(row["address"].strip().lower())
    return values


@login_required
def client_new(request, plural: str):
    kind = kind_for(plural)
    if not may_write(request.user, "clients"):
        raise Http404
    form = make_form(kind, request, request.POST or None, initial={"owner": request.user}, new=True)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.service_data(request.POST)
        if not request.POST.get("confirm_duplicate"):
            duplicates = likely_duplicates(
                request.user,
                kind.slug,
                normalised(data["phones"], "number"),
                normalised(data["emails"], "address"),
            )
        if not duplicates:
            try:
                record = kind.create(actor=request.user, data=data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("%(name)s is added.") % {"name": record})
                return redirect("client_detail", plural=plural, pk=record.pk)
    return render(
        request,
        "contacts/form.html",
        {
            "page_title": kind.new_label,
            "kind": kind,
            "form": form,
            "duplicates": duplicates,
            "phones": rows_for_form(request.POST, "phone"),
            "emails": rows_for_form(request.POST, "email"),
            "short": True,
        },
    )


@login_required
def client_edit(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(
        kind.visible(request.user).prefetch_related("contact_points", "tags"), pk=pk
    )
    if not can_change(request.user, record):
        raise Http404
    initial = initial_for(kind, record)
    form = make_form(kind, request, request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            record = kind.update(
                actor=request.user,
                data=form.service_data(request.POST),
                version=form.cleaned_data.get("version"),
                **{kind.slug: record},
            )
        except StaleVersion:
            conflict = kind.visible(request.user).get(pk=pk)
            form.add_error(
                None,
                _(
                    "Someone else saved this client while you were editing. Your "
                    "changes are below and not saved yet: compare, then save again."
                ),
            )
            form.data = form.data.copy()
            form.data["version"] = conflict.version
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("client_detail", plural=plural, pk=record.pk)
    posted = request.method == "POST"
    return render(
        request,
        "contacts/form.html",
        {
            "page_title": _("Edit %(name)s") % {"name": record},
            "kind": kind,
            "form": form,
            "record": record,
            "conflict": conflict,
            "phones": rows_for_form(request.POST, "phone")
            if posted
            else record_rows(record, "phone"),
            "emails": rows_for_form(request.POST, "email")
            if posted
            else record_rows(record, "email"),
        },
    )


@login_required
@require_POST
def client_delete_view(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(kind.visible(request.user), pk=pk)
    try:
        client_delete(actor=request.user, record=record)
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect("client_detail", plural=plural, pk=pk)
    messages.success(request, _("%(name)s is deleted.") % {"name": record})
    return redirect("client_list", plural=plural)


def initial_for(kind: Kind, record) -> dict:
    initial = {
        name: getattr(record, name)
        for name in kind.form.base_fields
        if hasattr(record, name) and name != "tags"
    }
    initial["tags"] = ", ".join(tag.name for tag in record.tags.all())
    initial.update(custom_initial(record))
    initial["version"] = record.version
    return initial


def record_rows(record, kind: str) -> list[dict]:
    rows = [
        {"value": p.value, "label": p.label} for p in record.contact_points.all() if p.kind == kind
    ]
    return [*rows, {"value": "", "label": ""}]


def rows_for_form(data, kind: str) -> list[dict]:
    values, labels = data.getlist(f"{kind}_value"), data.getlist(f"{kind}_label")
    rows = [
        {"value": v, "label": labels[i] if i < len(labels) else ""}
        for i, v in enumerate(values)
        if v
    ]
    return [*rows, {"value": "", "label": ""}]


# --- Duplicates, merge, personal data ------------------------------------------------------


@login_required
def duplicates(request, plural: str):
    kind = kind_for(plural)
    return render(
        request,
        "contacts/duplicates.html",
        {
            "page_title": _("Possible duplicates"),
            "kind": kind,
            "pairs": duplicate_pairs(request.user, kind.slug),
        },
    )


@login_required
def merge(request, plural: str):
    kind = kind_for(plural)
    visible = kind.visible(request.user).prefetch_related("contact_points", "tags")
    a = get_object_or_404(visible, pk=record_id(request, "a"))
    b = get_object_or_404(visible, pk=record_id(request, "b"))
    if not (can_change(request.user, a) and can_change(request.user, b)):
        raise Http404
    if request.method == "POST":
        take = [name for name in merge_fields(kind) if request.POST.get(name) == "b"]
        try:
            survivor = clients_merge(actor=request.user, survivor=a, other=b, take_from_other=take)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": survivor})
            return redirect("client_detail", plural=plural, pk=survivor.pk)
    rows = []
    for name in merge_fields(kind):
        field = a._meta.get_field(name)
        left, right = display_value(a, field), display_value(b, field)
        rows.append(
            {
                "name": name,
                "label": capfirst(field.verbose_name),
                "a": left,
                "b": right,
                "pick_b": left in ("", "—") and right not in ("", "—"),
                "same": left == right,
            }
        )
    return render(
        request,
        "contacts/merge.html",
        {
            "page_title": _("Merge duplicates"),
            "kind": kind,
            "a": a,
            "b": b,
            "rows": rows,
        },
    )


def record_id(request, name: str) -> int:
    """An id from the query or the form; anything else is simply not found."""
    value = request.GET.get(name) or request.POST.get(name) or ""
    if not value.isdigit() or len(value) > 18:
        raise Http404
    return int(value)


def merge_fields(kind: Kind) -> list[str]:
    return PERSON_FIELDS if kind is PEOPLE else COMPANY_FIELDS


def display_value(record, field) -> str:
    if field.choices:
        return records.shown(getattr(record, f"get_{field.name}_display")())
    return records.shown(getattr(record, field.name))


@login_required
def person_export(request, pk: int):
    person = get_object_or_404(people_visible_to(request.user), pk=pk)
    response = JsonResponse(
        person_data(person), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    return response


@login_required
@require_POST
def person_erase_view(request, pk: int):
    person = get_object_or_404(people_visible_to(request.user), pk=pk)
    try:
        person_erase(actor=request.user, person=person)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The person's data is erased; only the fact remains."))
    return redirect("client_detail", plural="people", pk=pk)
