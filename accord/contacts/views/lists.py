"""The lists of people and companies: filters, sort, columns, the picker, bulk actions."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.accounts.queries import owner_choices, users_visible_to
from accord.accounts.services import preference_set
from accord.contacts import columns
from accord.contacts.queries import (
    filter_clients,
    search_companies,
    search_people,
    segments_visible_to,
)
from accord.contacts.services.bulk import clients_bulk_assign, clients_bulk_delete, clients_bulk_tag
from accord.contacts.views.kinds import PEOPLE, Kind, kind_for
from accord.core.custom_fields import active_fields, sort_by_custom_field
from accord.core.pagination import InvalidCursor, keyset_page
from accord.core.phones import display_phone
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


def filterable_custom_fields(fields) -> list:
    """Custom fields the filter bar offers: those with a fixed set of values."""
    return [field for field in fields if field.type in ("choice", "multi_choice", "boolean")]


def requested_filters(params, kind: Kind, user, filter_fields=None) -> tuple[dict, object]:
    """The list's filters from a query string, a chosen segment's under them (Http404 for
    a segment the user cannot see); answers (filters, segment)."""
    if filter_fields is None:
        filter_fields = filterable_custom_fields(active_fields(kind.slug))
    names = LIST_FILTERS + [f"cf.{field.key}" for field in filter_fields]
    filters = {name: params[name] for name in names if params.get(name)}
    segment = None
    if params.get("segment", "").isdecimal():
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
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdecimal()]
    records = list(kind.visible(request.user).filter(pk__in=ids))
    action = request.POST.get("action")
    try:
        if not records:
            raise ValidationError(_("Select at least one row."))
        if action == "assign":
            owner_id = request.POST.get("owner", "")
            owner = (
                users_visible_to(request.user).filter(pk=owner_id).first()
                if owner_id.isdecimal() and len(owner_id) < 18
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
