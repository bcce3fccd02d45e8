"""`Idempotency-Key` on API POSTs: a retried request gets the first answer, not a second record.

The first answer (any status below 500) is kept for a day per caller and key. The same key
with a different request is refused with 422, as the IETF draft recommends.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from accord.api.models import IdempotentAnswer
from accord.api.problems import problem_response

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location")


def caller_of(request) -> str | None:
    credentials = request.headers.get("Authorization") or request.COOKIES.get("sessionid")
    if not credentials:
        return None
    return hashlib.sha256(credentials.encode()).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        caller = caller_of(request)
        if caller is None:
            return self.get_response(request)  # unauthenticated: the API answers 401 anyway
        if len(key) > 255:
            return problem_response(400, f"The {HEADER} header is longer than 255 characters.")
        fingerprint = hashlib.sha256(
            request.method.encode() + request.path.encode() + request.body
        ).hexdigest()
        IdempotentAnswer.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
        kept = IdempotentAnswer.objects.filter(caller=caller, key=key).first()
        if kept is not None:
            if kept.fingerprint != fingerprint:
                return problem_response(
                    422, f"This {HEADER} was already used for a different request."
                )
            response = HttpResponse(bytes(kept.body), status=kept.status,
                                    content_type=kept.content_type)  # fmt: skip
            for name, value in kept.headers.items():
                response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        response = self.get_response(request)
        if response.status_code < 500 and not getattr(response, "streaming", False):
            replayed = {h: response[h] for h in REPLAYED_HEADERS if response.has_header(h)}
            try:
                with transaction.atomic():
                    IdempotentAnswer.objects.create(
                        caller=caller, key=key, fingerprint=fingerprint,
                        status=response.status_code,
                        content_type=response.get("Content-Type", "application/json"),
                        body=response.content,
                        headers=replayed,
                    )  # fmt: skip
            except IntegrityError:
                pass  # a concurrent retry stored its answer first
        return response
