"""A colleague leaves: hand their clients, open deals and open tasks to someone else and
deactivate them, in one step (Settings → Users → a user → Deactivate)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.queries import users_for_settings
from accord.accounts.views import manager_required
from accord.core.ui.forms import apply_errors
from accord.work.services import hand_over_plan, work_hand_over


class HandOverForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label=gettext_lazy("Hand everything over to"),
        queryset=None,
        empty_label=gettext_lazy("Choose a colleague"),
    )
    move_while_away = forms.BooleanField(
        label=gettext_lazy("Move the tasks due while they are away too"), required=False
    )

    def __init__(self, *args, leaving, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = colleagues.filter(is_active=True).exclude(pk=leaving.pk)


@manager_required
def user_hand_over(request, user_id: int):
    colleagues = users_for_settings(request.user)
    leaving = get_object_or_404(colleagues, pk=user_id)
    if not leaving.is_active or leaving.pk == request.user.pk:
        raise Http404
    form = HandOverForm(request.POST or None, leaving=leaving, colleagues=colleagues)
    chosen = form.cleaned_data.get("to_user") if form.is_valid() else None
    plan = hand_over_plan(user=leaving, to_user=chosen)
    if request.method == "POST" and form.is_valid():
        try:
            moved = work_hand_over(
                actor=request.user, user=leaving, to_user=chosen,
                move_while_away=form.cleaned_data["move_while_away"],
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, error)
        else:
            counts = {
                "name": leaving,
                "colleague": chosen,
                "people": moved.people,
                "companies": moved.companies,
                "deals": moved.deals,
                "tasks": moved.tasks,
            }
            messages.success(request, _(
                "%(name)s is deactivated. %(colleague)s now has their %(people)s people, "
                "%(companies)s companies, %(deals)s open deals and %(tasks)s open tasks, "
                "each with its whole history; new leads no longer go to %(name)s."
            ) % counts)  # fmt: skip
            return redirect("user_edit", user_id=leaving.pk)
    return render(
        request,
        "work/hand_over.html",
        {"page_title": _("%(name)s leaves") % {"name": leaving}, "leaving": leaving,
         "form": form, "plan": plan, "section": "users"},
    )  # fmt: skip
