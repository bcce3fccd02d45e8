"""Optimistic concurrency for the API: ETag out, If-Match in, 412 on a stale write."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404

from accord.core.api.problems import Problem, invalid
from accord.core.errors import StaleVersion

ETAG = re.compile(r'^(?:W/)?"(\d+)-(\d+)"$')


def etag_of(record) -> str:
    return f'W/"{record.pk}-{record.version}"'


def expected_version(request, record) -> int | None:
    """The version the client last saw (from If-Match), or None when it sent none."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    match = ETAG.match(header)
    if not match or int(match.group(1)) != record.pk:
        raise Problem(412, "If-Match does not name this record; GET it again for its ETag.")
    return int(match.group(2))


def stale(record) -> Problem:
    return Problem(
        412,
        "Someone changed this record after you read it. GET it again, then retry.",
        headers={"ETag": etag_of(record)},
    )


def run_if_match(request, visible, pk: int, action):
    """Find the visible record, run `action(record, expected_version)` on it and turn a
    stale version into a 412 and a ValidationError into a 422; answers the new record."""

    record = get_object_or_404(visible, pk=pk)
    try:
        return action(record, expected_version(request, record))
    except StaleVersion:
        raise stale(visible.get(pk=pk)) from None
    except ValidationError as error:
        raise invalid(error) from None


def if_match(request, visible, pk: int, action):
    """Lock the visible record, check the version If-Match names (412 when stale), then
    run `action(record)`; a ValidationError is a 422 and nothing is written."""

    def guarded(record, version):
        with transaction.atomic():
            current = type(record).objects.select_for_update().get(pk=record.pk)
            if version is not None and version != current.version:
                raise StaleVersion(current.version)
            return action(current)

    return run_if_match(request, visible, pk, guarded)


# What the schema says about it, as `openapi_extra` of the operations that do it; the
# API's schema adds the 412 problem to every operation that takes If-Match.
ETAG_HEADER = {
    "description": 'The version of the record: W/"<id>-<version>"; send it back as If-Match.',
    "schema": {"type": "string"},
}
IF_MATCH_HEADER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag last read: a write over a newer version answers 412.",
    "schema": {"type": "string"},
}
LOCATION_HEADER = {"description": "The address of the new record.", "schema": {"type": "string"}}
ANSWERS_ETAG = {"responses": {200: {"headers": {"ETag": ETAG_HEADER}}}}
TAKES_IF_MATCH = {**ANSWERS_ETAG, "parameters": [IF_MATCH_HEADER]}
CREATES = {"responses": {201: {"headers": {"Location": LOCATION_HEADER, "ETag": ETAG_HEADER}}}}
