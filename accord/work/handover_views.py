"""A colleague leaves: hand their clients, open deals and open tasks to someone else (or
share them out by a team's lead rule) and deactivate them, in one step (Settings →
Users → a user → Deactivate)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import Team
from accord.accounts.queries import users_for_settings
from accord.accounts.views import manager_required
from accord.core.ui.forms import apply_errors
from accord.work.services import hand_over_plan, work_hand_over


class HandOverForm(forms.Form):
    to_user = forms.ChoiceField(label=gettext_lazy("Hand everything over to"))
    move_while_away = forms.BooleanField(
        label=gettext_lazy("Move the tasks due while their new holder is away too"),
        required=False,
    )

    def __init__(self, *args, leaving, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {
            f"user:{u.pk}": u for u in colleagues.filter(is_active=True).exclude(pk=leaving.pk)
        }
        self.teams = {
            f"team:{t.pk}": t for t in Team.objects.exclude(lead_rule="").order_by("name")
        }
        self.fields["to_user"].choices = [
            ("", _("Choose a colleague or a team")),
            (_("A colleague"), [(key, str(user)) for key, user in self.users.items()]),
            (
                _("Shared out by a team's rule for new leads"),
                [(key, str(team)) for key, team in self.teams.items()],
            ),
        ]

    def receiver(self) -> dict:
        """{"to_user": …} or {"to_team": …}, as the hand-over takes them."""
        key = self.cleaned_data.get("to_user", "")
        if key in self.teams:
            return {"to_team": self.teams[key]}
        return {"to_user": self.users.get(key)}


@manager_required
def user_hand_over(request, user_id: int):
    colleagues = users_for_settings(request.user)
    leaving = get_object_or_404(colleagues, pk=user_id)
    if not leaving.is_active or leaving.pk == request.user.pk:
        raise Http404
    form = HandOverForm(request.POST or None, leaving=leaving, colleagues=colleagues)
    chosen = form.receiver() if form.is_valid() else {}
    plan = hand_over_plan(user=leaving, **chosen)
    if request.method == "POST" and form.is_valid():
        try:
            moved = work_hand_over(
                actor=request.user, user=leaving,
                move_while_away=form.cleaned_data["move_while_away"], **chosen,
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, error)
        else:
            messages.success(request, _summary(leaving, moved))
            return redirect("user_edit", user_id=leaving.pk)
    return render(
        request,
        "work/hand_over.html",
        {"page_title": _("%(name)s leaves") % {"name": leaving}, "leaving": leaving,
         "form": form, "plan": plan, "shares": plan.shares(), "section": "users"},
    )  # fmt: skip


def _summary(leaving, moved) -> str:
    counts = {
        "name": leaving,
        "people": moved.people,
        "companies": moved.companies,
        "deals": moved.deals,
        "tasks": moved.tasks,
        "shares": ", ".join(
            _("%(user)s: %(count)s") % {"user": user, "count": count}
            for user, count in moved.shares()
        ),
    }
    return (
        _(
            "%(name)s is deactivated. Their %(people)s people, %(companies)s companies, "
            "%(deals)s open deals and %(tasks)s open tasks moved, each with its whole history "
            "(%(shares)s); new leads no longer go to %(name)s."
        )
        % counts
    )
