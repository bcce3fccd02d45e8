"""The public addresses of tracked messages (accord/comms/tracking.py), reached from a
reader's mail program with no login and no cookie: /t/o/<token>.gif answers the invisible
image — always, even for a token that is not ours, which records nothing — and
/t/c/<token> counts the click and sends the reader on (302) to the link's target, which
only a genuine token names: anything else is a 404, never a redirect."""

import logging

from django.db import OperationalError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from accord.comms import tracking
from accord.comms.services.tracking import message_clicked, message_opened

log = logging.getLogger(__name__)


@require_safe
def tracking_open(request, token: str):
    message_id = tracking.read_open(token)
    if message_id is not None and request.method == "GET":
        _count(message_opened, message_id=message_id, at=timezone.now())
    response = HttpResponse(tracking.PIXEL, content_type="image/gif")
    return _private(response)


@require_safe
def tracking_click(request, token: str):
    found = tracking.read_click(token)
    if found is None:
        raise Http404
    message_id, url = found
    if request.method == "GET":
        _count(message_clicked, message_id=message_id, url=url, at=timezone.now())
    return _private(HttpResponseRedirect(url))


def _count(service, **arguments) -> None:
    """Counts are approximate by nature (images blocked, links scanned): a database too
    busy to count one never keeps the reader from the image or the link."""
    try:
        service(**arguments)
    except OperationalError:
        log.warning("a tracked %s was not counted", service.__name__, exc_info=True)


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Pragma"] = "no-cache"
    # The target learns nothing of the token (nor that Accord passed the reader on).
    response["Referrer-Policy"] = "no-referrer"
    return response
