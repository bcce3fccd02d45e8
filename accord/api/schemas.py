"""Shared pieces of the API's schemas."""

from ninja import Schema


class WithId(Schema):
    """A record in the API: ids are opaque strings."""

    id: str

    @staticmethod
    def resolve_id(record) -> str:
        return str(record.pk)


def id_of(value) -> int | None:
    """The record id an API id ("42") stands for; None for anything else ("9²", "-1",
    a number past any id), so a lookup never fails on it."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
