"""Screens: my profile (details, password, second factor, API tokens), login verification,
and the Settings area for users, teams, roles and the security policy."""

import base64
from functools import wraps

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.accounts import forms
from accord.accounts.models import Role, SecurityPolicy, Team
from accord.accounts.queries import (
    roles_for_settings,
    teams_for_settings,
    tokens_of,
    users_for_settings,
)
from accord.accounts.services.roles import role_delete, role_save
from accord.accounts.services.teams import team_delete, team_save
from accord.accounts.services.tokens import token_create, token_revoke
from accord.accounts.services.two_factor import (
    two_factor_disable,
    two_factor_enrol,
    two_factor_pending_device,
)
from accord.accounts.services.users import (
    password_change,
    password_expired,
    security_policy_update,
    user_create,
    user_set_active,
    user_update,
)
from accord.core.errors import message_of
from accord.core.ui.forms import apply_errors
from accord.core.ui.links import back_to


def safe_next(request, fallback: str = "today") -> str:
    return back_to(request, reverse(fallback))


def manager_required(view):
    """Settings screens: only for roles that may manage users (others get a 404)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.can("manage_users"):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


# --- My profile ---------------------------------------------------------------------


@login_required
def profile(request):
    user = request.user
    form = forms.ProfileForm(
        request.POST or None,
        initial={
            "full_name": user.full_name,
            "language": user.language,
            "time_zone": user.time_zone,
            "theme": user.theme,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_update(user=user, actor=user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            response = redirect("profile")
            if user.language:  # the login page, after logout, speaks it too
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            else:  # "the browser's language": no earlier choice may linger in a cookie
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
            return response
    return render(
        request,
        "accounts/profile.html",
        {
            "page_title": _("My profile"),
            "form": form,
            "tokens": tokens_of(user).filter(revoked_at__isnull=True),
            "token_form": forms.TokenForm(),
            "has_two_factor": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "two_factor_required": bool(user.role and user.role.require_two_factor),
        },
    )


@login_required
def password_change_view(request):
    form = forms.PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password is changed."))
            return redirect(safe_next(request, "profile"))
    return render(
        request,
        "accounts/password.html",
        {
            "page_title": _("Change password"),
            "form": form,
            "forced": request.user.must_change_password,
            "expired": password_expired(request.user),
            "next": request.GET.get("next", ""),
        },
    )


@login_required
@require_POST
def token_create_view(request):
    form = forms.TokenForm(request.POST)
    secret = None
    if form.is_valid():
        try:
            _token, secret = token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            apply_errors(form, error)
    return render(
        request,
        "accounts/profile.html#tokens",
        {
            "tokens": tokens_of(request.user).filter(revoked_at__isnull=True),
            "token_form": forms.TokenForm() if secret else form,
            "new_secret": secret,
        },
        status=200 if secret else 422,
    )


@login_required
@require_POST
def token_revoke_view(request, token_id: int):
    token_revoke(token=get_object_or_404(tokens_of(request.user), pk=token_id))
    return render(
        request,
        "accounts/profile.html#tokens",
        {
            "tokens": tokens_of(request.user).filter(revoked_at__isnull=True),
            "token_form": forms.TokenForm(),
        },
    )


# --- Second factor -------------------------------------------------------------------


@login_required
def two_factor(request):
    """Enrol an authenticator app: scan the QR code, confirm with a code, get recovery codes."""
    user = request.user
    context = {"page_title": _("Two-factor login"), "form": forms.CodeForm()}
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        context["enrolled"] = True
        context["required"] = bool(user.role and user.role.require_two_factor)
        return render(request, "accounts/two_factor.html", context)
    device = two_factor_pending_device(user=user)
    form = context["form"] = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor_enrol(user=user, device=device, code=form.cleaned_data["code"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            otp_login(request, device)
            context["recovery_codes"] = codes
            return render(request, "accounts/two_factor.html", context)
    qr = segno.make(device.config_url, error="m")
    context.update(
        qr_svg=qr.svg_inline(scale=5, dark="#1b1f24", light="#ffffff"),
        secret=_base32(device),
        required=bool(user.role and user.role.require_two_factor),
    )
    return render(request, "accounts/two_factor.html", context)


@login_required
@require_POST
def two_factor_off(request):
    form = forms.CodeForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    try:
        two_factor_disable(user=request.user, code=code)
    except ValidationError as error:
        messages.error(request, message_of(error))
        return redirect("two_factor")
    messages.success(request, _("Two-factor login is off."))
    return redirect("profile")


def login_verify(request):
    """After the password: the code from the authenticator app, or a recovery code."""
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.is_verified():
        return redirect(safe_next(request))
    form = forms.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(safe_next(request))
        form.add_error(
            "code", _("That code is not right. Try the newest code, or a recovery code.")
        )
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": request.GET.get("next", "")},
    )


def _base32(device) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- Settings: users ---------------------------------------------------------------------


@login_required
def settings_home(request):
    """Settings opens on the first part the user may use: users, automation, the company."""
    if request.user.can("manage_users"):
        return redirect("users")
    if request.user.can("manage_automation"):
        return redirect("automation_rules")
    if request.user.sets_up_company:
        return redirect("company_settings")
    raise Http404


@manager_required
def users(request):
    return render(
        request,
        "accounts/users.html",
        {"page_title": _("Users"), "users": users_for_settings(request.user), "section": "users"},
    )


@manager_required
def user_new(request):
    form = forms.NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                actor=request.user,
                email=data["email"],
                password=data["password"],
                role=data["role"].slug,
                full_name=data["full_name"],
                team=data["team"],
                must_change_password=True,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(name)s can now log in.") % {"name": user})
            return redirect("users")
    return render(
        request,
        "accounts/user_form.html",
        {"page_title": _("New user"), "form": form, "section": "users"},
    )


@manager_required
def user_edit(request, user_id: int):
    person = get_object_or_404(users_for_settings(request.user), pk=user_id)
    form = forms.UserForm(
        request.POST or None,
        initial={
            "full_name": person.full_name,
            "email": person.email,
            "role": person.role,
            "team": person.team,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user_update(
                user=person,
                actor=request.user,
                full_name=data["full_name"],
                email=data["email"],
                role=data["role"],
                team=data["team"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("users")
    return render(
        request,
        "accounts/user_form.html",
        {"page_title": person, "form": form, "person": person, "section": "users"},
    )


@manager_required
@require_POST
def user_activation(request, user_id: int):
    person = get_object_or_404(users_for_settings(request.user), pk=user_id)
    active = request.POST.get("active") == "1"
    try:
        user_set_active(user=person, actor=request.user, active=active)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        if active:
            messages.success(request, _("%(name)s can log in again.") % {"name": person})
        else:
            messages.success(
                request, _("%(name)s is deactivated and logged out everywhere.") % {"name": person}
            )
    return redirect("user_edit", user_id=person.pk)


# --- Settings: teams ------------------------------------------------------------------


@manager_required
def teams(request):
    return render(
        request,
        "accounts/teams.html",
        {"page_title": _("Teams"), "teams": teams_for_settings(request.user), "section": "teams"},
    )


@manager_required
def team_edit(request, team_id: int | None = None):
    team = get_object_or_404(Team, pk=team_id) if team_id else None
    initial = {}
    if team:
        initial = {
            "name": team.name,
            "head": team.head,
            "members": list(team.members.all()),
            "escalation_minutes": team.escalation_minutes,
            "lead_rule": team.lead_rule,
            "lead_user": team.lead_user,
        }
    form = forms.TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and request.POST.get("delete") and team:
        team_delete(actor=request.user, team=team)
        messages.success(request, _("The team is deleted; its members have no team now."))
        return redirect("teams")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team_save(
                actor=request.user,
                team=team,
                name=data["name"],
                head=data["head"],
                members=list(data["members"]),
                escalation_minutes=data["escalation_minutes"],
                lead_rule=data["lead_rule"],
                lead_user=data["lead_user"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("teams")
    title = team.name if team else _("New team")
    return render(
        request,
        "accounts/team_form.html",
        {"page_title": title, "form": form, "team": team, "section": "teams"},
    )


# --- Settings: roles ---------------------------------------------------------------------


@manager_required
def roles(request):
    return render(
        request,
        "accounts/roles.html",
        {"page_title": _("Roles"), "roles": roles_for_settings(request.user), "section": "roles"},
    )


@manager_required
def role_edit(request, role_id: int | None = None):
    role = get_object_or_404(Role, pk=role_id) if role_id else None
    initial = forms.RoleForm.initial_for(role) if role else {"takes_leads": True}
    form = forms.RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and request.POST.get("delete") and role:
        try:
            role_delete(actor=request.user, role=role)
        except ValidationError as error:
            messages.error(request, message_of(error))
            return redirect("role_edit", role_id=role.pk)
        messages.success(request, _("The role is deleted."))
        return redirect("roles")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role_save(
                actor=request.user,
                role=role,
                name=data["name"],
                description=data["description"],
                access=form.access(),
                capabilities=data["capabilities"],
                require_two_factor=data["require_two_factor"],
                takes_leads=data["takes_leads"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("roles")
    title = str(role) if role else _("New role")
    return render(
        request,
        "accounts/role_form.html",
        {"page_title": title, "form": form, "role": role, "section": "roles"},
    )


@manager_required
def security(request):
    policy = SecurityPolicy.current()
    form = forms.SecurityForm(
        request.POST or None, initial={"password_max_age_days": policy.password_max_age_days}
    )
    if request.method == "POST" and form.is_valid():
        try:
            security_policy_update(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("security")
    return render(
        request,
        "accounts/security.html",
        {"page_title": _("Security"), "form": form, "section": "security"},
    )
