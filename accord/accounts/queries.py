"""Reads about users, teams, roles and tokens, scoped to what the acting user may see."""

from django.db.models import Count, Q, QuerySet

from accord.accounts.models import ApiToken, Role, Team, User


def users_visible_to(user: User) -> QuerySet[User]:
    """Every colleague is visible to a logged-in user (names are needed to assign work)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    return User.objects.select_related("role", "team")


def users_for_settings(user: User) -> QuerySet[User]:
    if not user.can("manage_users"):
        return User.objects.none()
    return User.objects.select_related("role", "team").order_by("-is_active", "full_name")


def users_search(user: User, query: str, limit: int = 8) -> list[User]:
    words = query.split()
    if not words:
        return []
    matches = users_visible_to(user).filter(is_active=True)
    for word in words:
        matches = matches.filter(Q(full_name__icontains=word) | Q(email__icontains=word))
    return list(matches.order_by("full_name")[:limit])


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Every logged-in user may see the teams (who works with whom)."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    return Team.objects.select_related("head").prefetch_related("members")


def roles_visible_to(user: User) -> QuerySet[Role]:
    if not user.is_authenticated or not user.is_active:
        return Role.objects.none()
    return Role.objects.all()


def teams_for_settings(user: User) -> QuerySet[Team]:
    if not user.can("manage_users"):
        return Team.objects.none()
    return Team.objects.select_related("head").annotate(member_count=Count("members"))


def roles_for_settings(user: User) -> QuerySet[Role]:
    if not user.can("manage_users"):
        return Role.objects.none()
    return Role.objects.annotate(user_count=Count("user"))


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def pending_login_step(user, *, verified: bool) -> str | None:
    """What a logged-in user must still do before using Accord, as a URL name, or None:
    enter the second factor, set one up (when the role requires it), or change the password.
    """
    from accord.accounts.services import password_expired

    has_device = user.has_second_factor
    if has_device and not verified:
        return "login_verify"
    if not has_device and user.role and user.role.require_two_factor:
        return "two_factor"
    if password_expired(user):
        return "password_change"
    return None


def owner_choices(user) -> list[tuple[str, str]]:
    """(id, name) of the active colleagues, for "owner" pickers: one light query."""
    people = users_visible_to(user).filter(is_active=True).order_by("full_name", "email")
    return [
        (str(pk), name or email)
        for pk, name, email in people.values_list("pk", "full_name", "email")
    ]
