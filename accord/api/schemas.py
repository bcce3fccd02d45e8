"""Shared pieces of the API's schemas."""

from ninja import Schema


class WithId(Schema):
    """A record in the API: ids are opaque strings."""

    id: str

    @staticmethod
    def resolve_id(record) -> str:
        return str(record.pk)
