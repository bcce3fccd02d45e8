"""Marketing's pages: the campaigns with what each cost against its budget, a campaign's
page and form, and the channels (administrators add them beside the campaigns)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.comms.services import may_send_mailings
from accord.contacts.queries import client_named
from accord.core.company import company, default_currency
from accord.core.services import company_profile_update
from accord.core.ui.forms import apply_errors
from accord.core.visibility import ALL, WRITE, effective_level
from accord.marketing.forms import (
    CampaignForm,
    ChannelForm,
    CostLimitForm,
    LeadLineForm,
    SpendForm,
)
from accord.marketing.models import Channel, LeadLine
from accord.marketing.queries import (
    campaign_expenses,
    campaign_mailings,
    campaign_results,
    campaigns_visible_to,
    person_touches,
)
from accord.marketing.services import (
    RECORD_TYPE,
    campaign_save,
    channel_save,
    may_write_campaign,
)
from accord.marketing.services.lines import lead_line_delete, lead_line_save
from accord.marketing.services.spend import spend_import


def _may_read(user) -> None:
    if user.access_level(RECORD_TYPE, "read") == "none":
        raise Http404


def _manages_channels(user) -> bool:
    return effective_level(user, "settings", WRITE) == ALL


@login_required
def campaigns(request):
    """The campaigns, running first: channel, dates, budget and what was spent."""
    _may_read(request.user)
    finished = request.GET.get("finished") == "1"
    rows = list(campaigns_visible_to(request.user).filter(retired=finished)[:500])
    results = campaign_results(rows)
    limit, main = company().max_cost_per_sale, default_currency()
    for campaign in rows:
        campaign.results = found = results[campaign.pk]
        campaign.spent = sorted(found.spent.items())
        campaign.revenue = sorted(found.revenue.items())
        campaign.per_lead = found.per_lead(campaign.currency)
        campaign.per_sale = found.per_sale(campaign.currency)
        campaign.roi = found.return_percent(campaign.currency)
        campaign.flag = found.flag(campaign.currency, limit if campaign.currency == main else None)
    channel_form = ChannelForm()
    return render(
        request,
        "marketing/campaigns.html",
        {
            "campaigns": rows,
            "finished": finished,
            "may_write": may_write_campaign(request.user),
            "manages_channels": _manages_channels(request.user),
            "channels": Channel.objects.all(),
            "channel_form": channel_form,
            "limit_form": CostLimitForm(initial={"limit": limit}),
            "lines": LeadLine.objects.select_related("messenger", "channel", "campaign"),
            "line_form": LeadLineForm(),
            "currency": main,
        },
    )


@login_required
def campaign(request, campaign_id: int):
    _may_read(request.user)
    found = get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)
    results = campaign_results([found])[found.pk]
    spent = results.spent
    left = None
    if found.budget is not None:
        left = found.budget - spent.get(found.currency, 0)
    return render(
        request,
        "marketing/campaign.html",
        {
            "campaign": found,
            "spent": sorted(spent.items()),
            "results": results,
            "revenue": sorted(results.revenue.items()),
            "per_lead": results.per_lead(found.currency),
            "per_sale": results.per_sale(found.currency),
            "roi": results.return_percent(found.currency),
            "left": left,
            "expenses": campaign_expenses(found),
            "mailings": campaign_mailings(found),
            "sends_mailings": may_send_mailings(request.user),
            "may_write": may_write_campaign(request.user, found),
        },
    )


@login_required
def campaign_edit(request, campaign_id: int | None = None):
    _may_read(request.user)
    found = None
    if campaign_id is not None:
        found = get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)
    if not may_write_campaign(request.user, found):
        raise Http404
    initial = {"currency": default_currency()}
    if found is not None:
        initial = {field: getattr(found, field) for field in CampaignForm.base_fields}
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = campaign_save(actor=request.user, data=form.cleaned_data, campaign=found)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("campaign", campaign_id=saved.pk)
    return render(
        request,
        "marketing/campaign_form.html",
        {"campaign": found, "form": form},
    )


@login_required
@require_POST
def channel_add(request):
    if not _manages_channels(request.user):
        raise Http404
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel_save(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The channel is added."))
    else:
        messages.error(request, _("Name the channel (at most 100 characters)."))
    return redirect("campaigns")


@login_required
@require_POST
def channel_retirement(request, channel_id: int):
    if not _manages_channels(request.user):
        raise Http404
    channel = get_object_or_404(Channel, pk=channel_id)
    channel_save(
        actor=request.user,
        data={"name": channel.name, "code": channel.code, "retired": not channel.retired},
        channel=channel,
    )
    return redirect("campaigns")


@login_required
@require_POST
def lead_line_add(request):
    """A number or a bot tied to a channel (administrators, beside the channels)."""
    if not _manages_channels(request.user):
        raise Http404
    form = LeadLineForm(request.POST)
    if form.is_valid():
        try:
            lead_line_save(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Saved. New clients it brings count under its channel."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("campaigns") + "#lines-title")


@login_required
@require_POST
def lead_line_remove(request, line_id: int):
    if not _manages_channels(request.user):
        raise Http404
    lead_line_delete(actor=request.user, line=get_object_or_404(LeadLine, pk=line_id))
    messages.success(request, _("Removed. The clients it brought keep their channel."))
    return redirect(reverse("campaigns") + "#lines-title")


@login_required
def client_touches(request):
    """A person's card: where they came from — the first touch and the last, each deal's,
    and the requests they sent through web forms. Nothing when no visit was recorded."""
    person, _company = client_named(request.user, request.GET)
    if person is None:
        raise Http404
    touches = person_touches(request.user, person)
    if not touches["first"] and not touches["requests"]:
        return HttpResponse("")
    return render(request, "marketing/client_touches.html", touches)


@login_required
def spend_import_view(request):
    """Ad spend from an ad platform's file: each campaign's day, the rows not read listed."""
    _may_read(request.user)
    if not may_write_campaign(request.user):
        raise Http404
    form = SpendForm(request.POST or None, request.FILES or None,
                     initial={"currency": default_currency()})  # fmt: skip
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = spend_import(actor=request.user, data=form.cleaned_data["file"].read(),
                                  currency=form.cleaned_data["currency"])  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "marketing/spend_import.html", {"form": form, "report": report})


@login_required
@require_POST
def cost_limit(request):
    """The cost per sale above which a channel or campaign is flagged (administrators)."""
    if not _manages_channels(request.user):
        raise Http404
    form = CostLimitForm(request.POST)
    if form.is_valid():
        try:
            company_profile_update(actor=request.user, max_cost_per_sale=form.cleaned_data["limit"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("An amount above zero, or empty for none."))
    return redirect("campaigns")
