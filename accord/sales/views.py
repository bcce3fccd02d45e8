"""Deal screens: the kanban board per pipeline, the deal page, forms, moves and closing."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.accounts.queries import owner_choices, teams_visible_to, users_visible_to
from accord.accounts.services import preference_set
from accord.catalog.models import Product
from accord.contacts.queries import (
    client_named,
    companies_visible_to,
    people_visible_to,
    segments_visible_to,
)
from accord.contacts.services import segment_delete, segment_save
from accord.core.company import default_currency
from accord.core.errors import StaleVersion, message_of
from accord.core.pagination import InvalidCursor, keyset_page
from accord.core.ui import records
from accord.core.ui.forms import apply_errors, custom_initial
from accord.core.ui.links import back_to
from accord.core.visibility import may_write
from accord.sales import columns, forms
from accord.sales.cards import card_html
from accord.sales.models import Deal, DealScore, LineItem, Stage
from accord.sales.queries import (
    DEAL_SORTS,
    board,
    board_card,
    board_cards,
    client_deals,
    column_heads,
    deals_visible_to,
    filter_deals,
    mark_next_steps,
    pipelines_for,
    search_deals,
)
from accord.sales.services.common import can_change
from accord.sales.services.deals import (
    deal_create,
    deal_lose,
    deal_move,
    deal_note_add,
    deal_reopen,
    deal_update,
    deal_win,
    deals_bulk_assign,
)
from accord.sales.services.lines import line_item_delete, line_item_save

LIST_PAGE = 50
BOARD_FILTERS = ["owner", "team", "tag", "segment", "q", "close_from", "close_until"]
LIST_FILTERS = [*BOARD_FILTERS, "status", "stage", "person", "company"]


@login_required
def deals_home(request):
    pipeline = pipelines_for(request.user).first()
    if pipeline is None:
        return render(request, "sales/board.html", {"page_title": _("Deals"), "columns": None})
    return redirect("deal_board", pipeline_id=pipeline.pk)


def _board_deals(request):
    """The deals the board shows, with its filters; (deals, filters, error). Only open
    stages show cards, so no status filter: a column's query stays `stage = x` and its
    index range (a redundant pipeline and status made the planners choose worse)."""
    filters = {name: request.GET[name] for name in BOARD_FILTERS if request.GET.get(name)}
    deals = deals_visible_to(request.user)
    try:
        return filter_deals(deals, filters, user=request.user), filters, ""
    except ValidationError as problem:
        return deals.none(), filters, message_of(problem)


def client_segments(user):
    """The segments of people and companies, for the "segment of clients" filter."""
    return segments_visible_to(user).filter(record_type__in=["person", "company"])


def deal_base() -> str:
    """ "/deals/": a card's link is this and its id, without a reverse() per card."""
    return reverse("deal_detail", args=[0])[:-2]


def _dress(cards, stage) -> None:
    """Days in the stage, the rotting flag and the card's HTML, for each card."""
    now, base = timezone.now(), deal_base()
    for card in cards:
        card.days = (now - card.stage_entered_at).days
        card.rotting = bool(stage.rotting_days and card.days >= stage.rotting_days)
        card.html = card_html(card, base)


@login_required
def deal_board(request, pipeline_id: int):
    pipelines = pipelines_for(request.user)
    pipeline = get_object_or_404(pipelines, pk=pipeline_id)
    deals, filters, error = _board_deals(request)
    columns = board(request.user, pipeline, deals)
    for column in columns:
        _dress(column.cards, column.stage)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "sales/board.html",
        {
            "page_title": _("Deals"),
            "pipeline": pipeline,
            "pipelines": pipelines,
            "columns": columns,
            "can_write": may_write(request.user, "deals"),
            "mine": request.GET.get("owner") == "me",
            "filters": filters,
            "filter_query": query.urlencode(),
            "error": error,
            "owners": owner_choices(request.user),
            "teams": teams_visible_to(request.user),
            "segments": client_segments(request.user),
            "currency": default_currency(),
        },
    )


@login_required
def deal_pick(request):
    """The options of a deal picker (web.widgets.RecordPicker): open deals first."""
    query = request.GET.get("q", "").strip()
    if len(query) < 2:
        return HttpResponse(status=204)
    found = search_deals(request.user, query)
    options = [(deal.pk, f"{deal} · {deal.person or deal.company or deal.stage}") for deal in found]
    return render(
        request,
        "web/widgets/picker_options.html",
        {"empty": request.GET.get("empty", "—")[:100], "options": options, "query": query},
    )


@login_required
def deal_board_cards(request, pipeline_id: int, stage_id: int):
    """The next cards of one column, asked for by the board as the column is scrolled."""
    pipeline = get_object_or_404(pipelines_for(request.user), pk=pipeline_id)
    stage = get_object_or_404(pipeline.stages.filter(retired=False, kind=Stage.OPEN), pk=stage_id)
    deals, _filters, _error = _board_deals(request)
    try:
        page = board_cards(deals, stage, request.GET.get("cursor"))
    except InvalidCursor as problem:
        return JsonResponse({"error": str(problem)}, status=400)
    _dress(mark_next_steps(page.items), stage)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "sales/board.html#cards",
        {
            "pipeline": pipeline,
            "stage": stage,
            "cards": page.items,
            "next_cursor": page.next_cursor,
            "filter_query": query.urlencode(),
        },
    )


@login_required
def deal_list(request):
    """All deals the user may see, as a table: filters, sort, keyset pages."""
    filters = {name: request.GET[name] for name in LIST_FILTERS if request.GET.get(name)}
    saved = segments_visible_to(request.user, "deal")
    view = None
    if request.GET.get("view", "").isdecimal():
        view = saved.filter(pk=request.GET["view"]).first()
        if view is None:
            raise Http404
        filters = {**view.filters, **filters}
    sort = request.GET.get("sort", "-updated_at")
    if sort.lstrip("-") not in DEAL_SORTS:
        sort = "-updated_at"
    error = ""
    shown = columns.chosen(request.user)
    deals = deals_visible_to(request.user)
    if any(name == "tags" for name, _label, _sort in shown):
        deals = deals.prefetch_related("tags")
    try:
        deals = filter_deals(deals, filters, user=request.user)
        page = keyset_page(deals, sort=sort, cursor=request.GET.get("cursor"), limit=LIST_PAGE)
    except (ValidationError, InvalidCursor) as problem:
        error = " ".join(getattr(problem, "messages", [str(problem)]))
        page = keyset_page(deals.none(), sort=sort, limit=LIST_PAGE)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "sales/list.html",
        {
            "page_title": _("Deals"),
            "client": _client_filtered(request.user, filters),
            "rows": page.items,
            "filters": filters,
            "sort": sort,
            "error": error,
            "pipelines": pipelines_for(request.user),
            "next_url": f"?{query.urlencode()}&cursor={page.next_cursor}"
            if page.next_cursor
            else "",
            "owners": owner_choices(request.user),
            "teams": teams_visible_to(request.user),
            "segments": client_segments(request.user),
            "can_write": may_write(request.user, "deals"),
            "columns": shown,
            "all_columns": columns.available(),
            "saved": saved,
            "view": view,
            "filter_query": urlencode(filters),
        },
    )


@login_required
@require_POST
def deal_bulk(request):
    """With the deals ticked on the list: give them a new owner."""
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdecimal() and len(pk) < 18]
    deals = list(deals_visible_to(request.user).filter(pk__in=ids))
    owner_id = request.POST.get("owner", "")
    owner = (
        users_visible_to(request.user).filter(pk=owner_id).first()
        if owner_id.isdecimal() and len(owner_id) < 18
        else None
    )
    try:
        if not deals:
            raise ValidationError(_("Select at least one row."))
        done = deals_bulk_assign(actor=request.user, deals=deals, owner=owner)
        messages.success(request, _("%(count)s deals have a new owner.") % {"count": done})
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, message_of(error))
    return redirect(reverse("deal_list") + "?" + request.POST.get("query", ""))


def _client_filtered(user, filters: dict) -> tuple[str, object] | None:
    """(parameter, client) when the list shows one client's deals (from its card)."""
    for name, clients in (("person", people_visible_to), ("company", companies_visible_to)):
        value = filters.get(name, "")
        if value.isdecimal() and len(value) <= 18:
            found = clients(user).filter(pk=value).first()
            return (name, found) if found else None
    return None


@login_required
@require_POST
def deal_segment_create(request):
    """Keep the deal list's filters as a segment of deals (private or shared)."""
    filters = dict(QueryDict(request.POST.get("filters", "")).items())
    try:
        segment = segment_save(
            actor=request.user,
            name=request.POST.get("name", ""),
            record_type="deal",
            filters=filters,
            shared=bool(request.POST.get("shared")),
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect(reverse("deal_list") + "?" + request.POST.get("filters", ""))
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment})
    return redirect(reverse("deal_list") + f"?view={segment.pk}")


@login_required
@require_POST
def deal_segment_remove(request, segment_id: int):
    segment = get_object_or_404(segments_visible_to(request.user, "deal"), pk=segment_id)
    try:
        segment_delete(actor=request.user, segment=segment)
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("deal_list")


@login_required
@require_POST
def choose_columns(request):
    """The deal list's columns, kept in the user's preferences."""
    chosen = columns.clean_choice(request.POST.getlist("columns"))
    preference_set(
        user=request.user,
        key="columns",
        value={**request.user.preferences.get("columns", {}), "deal": chosen},
    )
    query = request.POST.get("query", "")
    return redirect(reverse("deal_list") + (f"?{query}" if query else ""))


@login_required
@require_POST
def deal_move_view(request, pk: int):
    """Called by the board after a drop: {stage, after, version}, the board's filters in
    the query. Answers the heads of the columns the deal left and entered and the moved
    card, as htmx out-of-band partials; or a message with 400 (bad input), 403 or 409
    (moved by someone else meanwhile); or, dropped on "lost", the deal page to say why."""
    visible = deals_visible_to(request.user)
    deal = get_object_or_404(visible, pk=pk)
    left = deal.stage
    form = forms.MoveForm(request.POST, deal=deal, deals=visible)
    if not form.is_valid():
        return board_message(request, form.first_error(), status=400)
    stage, version = form.cleaned_data["stage"], form.cleaned_data["version"]
    if stage.kind == Stage.LOST:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = deal_url(deal) + "?lose=1"
        return response
    try:
        if stage.kind == Stage.WON:
            deal = deal_win(actor=request.user, deal=deal, version=version)
        else:
            deal = deal_move(
                actor=request.user,
                deal=deal,
                stage=stage,
                after=form.cleaned_data["after"],
                version=version,
            )
    except StaleVersion:
        message = _("Someone moved this deal a moment ago; the board is reloaded.")
        return board_message(request, message, status=409)
    except PermissionDenied as error:
        return board_message(request, str(error) or _("You may not do this."), status=403)
    except ValidationError as error:
        return board_message(request, message_of(error), status=400)
    deals, _filters, _error = _board_deals(request)
    stages = [s for s in dict.fromkeys([left, deal.stage]) if s.kind == Stage.OPEN]
    card = board_card(deals, deal.pk)
    if card is not None:
        _dress([card], deal.stage)
        card.html = card_html(card, deal_base(), oob=True)
    context = {
        "heads": column_heads(deals, stages),
        "card": card,
        "deal": deal,
        "currency": default_currency(),
    }
    return render(request, "sales/board.html#moved", context)


def board_message(request, message: str, *, status: int):
    """A refused drop: the message in the board's status line (the board then reloads)."""
    return render(request, "sales/board.html#status", {"message": message}, status=status)


def deal_url(deal) -> str:
    return reverse("deal_detail", args=[deal.pk])


def deal_form(request, data=None, initial=None):
    return forms.DealForm(
        data,
        initial=initial,
        people=people_visible_to(request.user),
        companies=companies_visible_to(request.user),
        pipelines=pipelines_for(request.user),
    )


@login_required
def deal_new(request):
    if not may_write(request.user, "deals"):
        raise Http404
    initial = {
        "owner": request.user,
        "currency": default_currency(),
        "pipeline": request.GET.get("pipeline"),
        "person": request.GET.get("person"),
        "company": request.GET.get("company"),
    }
    form = deal_form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deal = deal_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Deal “%(title)s” added.") % {"title": deal})
            return redirect("deal_detail", pk=deal.pk)
    return render(request, "sales/form.html", {"page_title": _("New deal"), "form": form})


@login_required
def deal_edit(request, pk: int):
    deal = get_object_or_404(deals_visible_to(request.user), pk=pk)
    if not can_change(request.user, deal):
        raise Http404
    initial = {
        name: getattr(deal, name)
        for name in (
            "title",
            "person",
            "company",
            "pipeline",
            "amount",
            "currency",
            "expected_close_date",
            "owner",
            "source",
            "is_preorder",
            "version",
        )
    }
    initial["tags"] = ", ".join(tag.name for tag in deal.tags.all())
    initial.update(custom_initial(deal))
    form = deal_form(request, request.POST or None, initial=initial)
    form.fields["pipeline"].disabled = True
    if deal.line_items.exists():
        form.fields["amount"].disabled = True
        form.fields["amount"].help_text = _("The sum of the line items.")
    if request.method == "POST" and form.is_valid():
        try:
            deal_update(
                actor=request.user,
                deal=deal,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except StaleVersion:
            form.add_error(
                None,
                _(
                    "Someone else saved this deal while you were editing. Your "
                    "changes are below and not saved yet: compare, then save again."
                ),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("deal_detail", pk=deal.pk)
    return render(
        request,
        "sales/form.html",
        {"page_title": _("Edit %(name)s") % {"name": deal}, "form": form, "deal": deal},
    )


def timeline_context(request, deal) -> dict:
    return records.timeline_context(request, deal, f"{deal_url(deal)}timeline/")


def stage_times(deal) -> list[dict]:
    """Each stage of the pipeline with the days this deal spent in it."""
    spent: dict[int, int] = {}
    for move in deal.moves.all():
        if move.from_stage_id and move.seconds_in_from:
            spent[move.from_stage_id] = spent.get(move.from_stage_id, 0) + move.seconds_in_from
    current = int((timezone.now() - deal.stage_entered_at).total_seconds())
    spent[deal.stage_id] = spent.get(deal.stage_id, 0) + current
    return [
        {
            "stage": stage,
            "days": round(spent.get(stage.pk, 0) / 86400, 1),
            "current": stage.pk == deal.stage_id,
        }
        for stage in deal.pipeline.stages.filter(retired=False, kind=Stage.OPEN)
    ]


@login_required
def deal_stage_menu(request, pk: int):
    """A board card's "move to" menu, loaded when it is opened: the stages of the deal's
    pipeline as buttons (the keyboard's way to move a deal without dragging)."""
    deal = get_object_or_404(deals_visible_to(request.user), pk=pk)
    context = {
        "deal": deal,
        "stages": deal.pipeline.stages.filter(retired=False),
        "may_move": can_change(request.user, deal),
        "next": back_to(request, (request.htmx.current_url if request.htmx else "") or ""),
    }
    return render(request, "sales/stage_menu.html", context)


def _move_by_hand(request, deal: Deal):
    """A stage picked on the deal's stage path or a board card's menu (no dragging): the
    deal moves, is won, or — for "lost" — its page asks why. Back where the user was."""
    back = back_to(request, deal_url(deal))
    form = forms.MoveForm(request.POST, deal=deal, deals=deals_visible_to(request.user))
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect(back)
    stage, version = form.cleaned_data["stage"], form.cleaned_data["version"]
    if stage.kind == Stage.LOST:
        return redirect(deal_url(deal) + "?lose=1")
    try:
        if stage.kind == Stage.WON:
            deal_win(actor=request.user, deal=deal, version=version)
            messages.success(request, _("Won! The deal is closed."))
        else:
            deal_move(actor=request.user, deal=deal, stage=stage, version=version)
            messages.success(request, _("“%(deal)s” is now in %(stage)s.") % {
                "deal": deal, "stage": stage})  # fmt: skip
    except StaleVersion:
        messages.error(request, _("Someone changed this deal a moment ago: look again."))
    return redirect(back)


@login_required
def client_deals_panel(request):
    """The deals card of a person's or a company's page (loaded into it by htmx)."""
    person, company = client_named(request.user, request.GET)
    if person is None and company is None:
        raise Http404
    found = client_deals(request.user, person=person, company=company)
    client = {"person": person.pk} if person else {"company": company.pk}
    new = {**client, "company": person.company_id} if person and person.company_id else client
    context = {
        "deals": found,
        "new_url": f"{reverse('deal_new')}?{urlencode(new)}",
        "list_url": f"{reverse('deal_list')}?{urlencode(client)}",
        "may_add": may_write(request.user, "deals"),
        "is_company": company is not None,
    }
    return render(request, "sales/client_deals.html", context)


@login_required
def deal_detail(request, pk: int):
    deal = get_object_or_404(
        deals_visible_to(request.user).prefetch_related("line_items", "tags"), pk=pk
    )
    return render(
        request,
        "sales/detail.html",
        {
            "page_title": str(deal),
            "deal": deal,
            "can_edit": can_change(request.user, deal),
            "stages": stage_times(deal),
            "lose_form": forms.LoseForm(),
            "item_form": forms.LineItemForm(),
            "open_lose": request.GET.get("lose") == "1",
            "products": Product.objects.filter(active=True, currency=deal.currency),
            "custom_values": records.custom_values(deal),
            "score": DealScore.objects.filter(deal=deal).first() if deal.status == "open" else None,
            **timeline_context(request, deal),
        },
    )


@login_required
def deal_timeline(request, pk: int):
    deal = get_object_or_404(deals_visible_to(request.user), pk=pk)
    return render(
        request, "sales/detail.html#timeline", {"deal": deal, **timeline_context(request, deal)}
    )


@login_required
@require_POST
def deal_action(request, pk: int, action: str):
    """Win, lose, reopen, add a note, add or remove a line item — then back to the deal."""
    deal = get_object_or_404(deals_visible_to(request.user), pk=pk)
    try:
        if action == "win":
            deal_win(actor=request.user, deal=deal)
            messages.success(request, _("Won! The deal is closed."))
        elif action == "lose":
            form = forms.LoseForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else None
            deal_lose(
                actor=request.user, deal=deal, reason=reason, note=request.POST.get("note", "")
            )
            messages.success(request, _("The deal is closed as lost."))
        elif action == "reopen":
            deal_reopen(actor=request.user, deal=deal)
        elif action == "stage":
            return _move_by_hand(request, deal)
        elif action == "note":
            deal_note_add(actor=request.user, deal=deal, text=request.POST.get("text", ""))
        elif action == "item":
            product = Product.objects.filter(
                pk=request.POST.get("product") or 0, active=True
            ).first()
            data = {
                k: v for k, v in request.POST.items() if k in forms.LineItemForm.base_fields and v
            }
            if product is not None:
                data["product"] = product
            line_item_save(actor=request.user, deal=deal, data=data)
        elif action == "remove-item":
            item = get_object_or_404(LineItem, pk=request.POST.get("item") or 0, deal=deal)
            line_item_delete(actor=request.user, item=item)
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("deal_detail", pk=deal.pk)
