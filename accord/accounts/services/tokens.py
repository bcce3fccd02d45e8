"""Personal API tokens: make, revoke, and the user a bearer token belongs to."""

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import ApiToken, User
from accord.core.events import emit

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a personal API token; returns it with the secret, which is never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("The name is longer than 100 characters.")]})
    if not user.is_active:
        raise ValidationError({"user": [_("The user is deactivated.")]})
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=ApiToken.hash_key(key), hint=key[:10]
    )
    emit("token.created", token_id=token.pk, user_id=user.pk)
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        emit("token.revoked", token_id=token.pk, user_id=token.user_id)
    return token


def token_authenticate(key: str) -> User | None:
    """The active user a bearer token belongs to, or None; notes when it was last used."""
    if not key.startswith(ApiToken.PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user__role")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        # Written at most once a minute, so busy API clients do not write on every call.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
