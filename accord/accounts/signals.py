"""Keeps track of each user's browser sessions, so they can be ended on the server."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from accord.accounts.services.sessions import session_ended, session_started


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is not None and getattr(request, "session", None) is not None:
        if request.session.session_key is None:
            request.session.save()
        session_started(
            user=user,
            session_key=request.session.session_key,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if request is not None and request.session.session_key:
        session_ended(session_key=request.session.session_key)
