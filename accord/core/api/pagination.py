"""List endpoints: `?limit=&cursor=&sort=` in, `{"items": [...], "next_cursor"}` out."""

from typing import Annotated

from django.db.models import QuerySet
from ninja import Field, Schema

from accord.core.api.problems import Problem
from accord.core.pagination import MAX_LIMIT, InvalidCursor, keyset_page


class ListParams(Schema):
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 50
    cursor: str | None = None
    sort: str | None = None


def paginate(queryset: QuerySet, params: ListParams, *, sorts: set[str], default_sort: str) -> dict:
    """A page of the queryset; `sorts` names the fields a client may sort by."""
    sort = params.sort or default_sort
    if sort.lstrip("-") not in sorts:
        allowed = ", ".join(sorted(sorts))
        raise Problem(
            400,
            f"Cannot sort by {sort!r}.",
            errors=[{"field": "sort", "message": f"Sort by one of: {allowed} (- for descending)."}],
        )
    try:
        page = keyset_page(queryset, sort=sort, cursor=params.cursor, limit=params.limit)
    except InvalidCursor as error:
        raise Problem(
            400, str(error), errors=[{"field": "cursor", "message": str(error)}]
        ) from None
    return {"items": page.items, "next_cursor": page.next_cursor}


class Page[Item](Schema):
    items: list[Item]
    next_cursor: str | None
