"""Reads about users and tokens, scoped to what the acting user may see."""

from django.db.models import QuerySet

from accord.accounts.models import ApiToken, User


def users_visible_to(user: User) -> QuerySet[User]:
    """Every colleague is visible to a logged-in user (names are needed to assign work)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    return User.objects.select_related("role")


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
