"""Hooks for django-axes: how a login attempt is named, and what a locked-out user sees."""

from django.conf import settings
from django.shortcuts import render


def username_of(request, credentials) -> str:
    """E-mails are case-insensitive, so are lockouts."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).strip().lower()


def locked_out(request, credentials, *args, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked.html", {"minutes": minutes}, status=429)
