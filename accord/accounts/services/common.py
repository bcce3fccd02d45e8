"""What the accounts services share: the check that the actor's role has a capability."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accord.accounts.models import User


def require_capability(actor: User, capability: str) -> None:
    if not actor.can(capability):
        raise PermissionDenied(_("Your role does not allow this."))
