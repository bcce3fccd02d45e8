"""Tags of clients and deals: giving a record its tags, creating the new ones."""

from django.db import IntegrityError, transaction

from accord.contacts.models import Tag


def _tag_create(name: str) -> Tag:
    """A new tag, or the one another process created meanwhile (names are unique)."""
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def set_tags(record, names: list[str], *, new: bool = False) -> list[str]:
    """Give a record (client or deal) these tags, creating the ones that are new; answers
    their names. Only a name the record does not have yet is looked up (a `new` record
    has none)."""
    current = {} if new else {tag.name: tag for tag in record.tags.all()}
    tags = []
    for name in names:
        name = str(name).strip()[:50]
        if name:
            tag = current.get(name) or tag_named(name)
            if tag not in tags:
                tags.append(tag)
    had, keep = {tag.pk for tag in current.values()}, {tag.pk for tag in tags}
    record.tags.remove(*[tag for tag in current.values() if tag.pk not in keep])
    record.tags.add(*[tag for tag in tags if tag.pk not in had])
    return [tag.name for tag in tags]


def tag_named(name: str) -> Tag:
    """The tag of this name whatever its case, created when there is none."""
    return Tag.objects.filter(name__iexact=name).first() or _tag_create(name)
