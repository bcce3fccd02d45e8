"""Segments: saved filters of a list under a name, shared or not."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Segment
from accord.contacts.queries import companies_visible_to, filter_clients, people_visible_to
from accord.core.events import emit

# Other apps' records can be kept as segments too: record type -> a function that raises
# ValidationError for filters its lists refuse (sales registers "deal").
SEGMENT_CHECKS: dict = {}


@transaction.atomic
def segment_save(
    *, actor: User, name: str, record_type: str, filters: dict, shared: bool = False, segment=None
):
    """Save a filter under a name; the filter is checked the way lists check it."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > 100:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": 100}]
    if record_type not in ("person", "company", *SEGMENT_CHECKS):
        errors["record_type"] = [_("A segment holds people, companies or deals.")]
    clean = {
        str(k): str(v) for k, v in (filters or {}).items() if str(v).strip() and k != "segment"
    }
    if not clean:
        errors["filters"] = [_("Set at least one filter first.")]
    if not errors:
        try:
            if record_type in SEGMENT_CHECKS:  # another app's records (deals)
                SEGMENT_CHECKS[record_type](actor, clean)
            else:
                visible = people_visible_to if record_type == "person" else companies_visible_to
                filter_clients(visible(actor), record_type, clean, user=actor)
        except ValidationError as error:
            errors.update(error.message_dict)
    if segment is not None and segment.owner_id != actor.pk and not actor.can("manage_users"):
        raise PermissionDenied(_("Only its author changes a segment."))
    if errors:
        raise ValidationError(errors)
    if segment is None:
        segment = Segment(owner=actor)
    segment.name, segment.record_type, segment.filters, segment.shared = (
        name,
        record_type,
        clean,
        shared,
    )
    segment.save()
    emit("segment.saved", segment_id=segment.pk, actor_id=actor.pk)
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment) -> None:
    if segment.owner_id != actor.pk and not actor.can("manage_users"):
        raise PermissionDenied(_("Only its author deletes a segment."))
    segment_id = segment.pk
    segment.delete()
    emit("segment.deleted", segment_id=segment_id, actor_id=actor.pk)
