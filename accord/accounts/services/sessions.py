"""A user's browser sessions: noted at login, dropped at logout, all ended at once."""

from django.contrib.sessions.models import Session
from django.db import transaction

from accord.accounts.models import User, UserSession


@transaction.atomic
def session_started(*, user: User, session_key: str, ip_address: str | None, user_agent: str):
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip_address": ip_address, "user_agent": user_agent[:300]},
    )


@transaction.atomic
def session_ended(*, session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end(*, user: User) -> int:
    """End every browser session of a user on the server."""
    keys = list(user.browser_sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)
