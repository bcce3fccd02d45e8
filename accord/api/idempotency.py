"""`Idempotency-Key` on API POSTs: a retried request gets the first answer, not a second record.

The key is claimed before the request runs, so two retries racing each other cannot both
create: the second gets 409 while the first is still running, then the first answer. The
answer (any status below 500) is kept for a day per caller and key. The same key with a
different request is refused with 422, as the IETF draft recommends.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from accord.accounts.services import token_authenticate
from accord.api.models import IdempotentAnswer
from accord.core import callers
from accord.core.api.problems import problem_response

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
PENDING = 0
REPLAYED_HEADERS = ("ETag", "Location")


def caller_of(request) -> str | None:
    """Whose request this is: a hash of credentials that are still valid, else None."""

    authorization = request.headers.get("Authorization", "")
    recognise = callers.recogniser_for(request.path)  # e.g. automation's hooks
    if recognise is not None:
        credentials = recognise(request)
        if credentials is None:
            return None  # an unknown address keeps nothing (it answers 404 itself)
    elif authorization.startswith("Bearer "):
        if token_authenticate(authorization[7:].strip()) is None:
            return None
        credentials = authorization
    elif getattr(request, "user", None) is not None and request.user.is_authenticated:
        credentials = f"session:{request.user.pk}:{request.session.session_key}"
    else:
        return None
    return hashlib.sha256(credentials.encode()).hexdigest()


def replay(kept: IdempotentAnswer) -> HttpResponse:
    response = HttpResponse(bytes(kept.body), status=kept.status, content_type=kept.content_type)
    for name, value in kept.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        caller = caller_of(request)
        if caller is None:
            return self.get_response(request)  # the API answers 401 by itself
        if len(key) > 255:
            return problem_response(400, f"The {HEADER} header is longer than 255 characters.")
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.get_full_path().encode(), request.body])
        ).hexdigest()
        IdempotentAnswer.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
        try:
            with transaction.atomic():
                claim = IdempotentAnswer.objects.create(
                    caller=caller,
                    key=key,
                    fingerprint=fingerprint,
                    status=PENDING,
                    content_type="",
                    body=b"",
                )
        except IntegrityError:
            kept = IdempotentAnswer.objects.get(caller=caller, key=key)
            if kept.fingerprint != fingerprint:
                return problem_response(
                    422, f"This {HEADER} was already used for a different request."
                )
            if kept.status == PENDING:
                return problem_response(
                    409, f"A request with this {HEADER} is still running; retry in a moment."
                )
            return replay(kept)
        try:
            response = self.get_response(request)
        except Exception:
            claim.delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            claim.delete()  # a failure may be retried for real
            return response
        claim.status = response.status_code
        claim.content_type = response.get("Content-Type", "application/json")
        claim.body = response.content
        claim.headers = {h: response[h] for h in REPLAYED_HEADERS if response.has_header(h)}
        claim.save()
        return response


def forget_answers_about(location: str) -> None:
    """Drop kept answers that describe a record (its personal data was erased)."""
    IdempotentAnswer.objects.filter(headers__Location=location).delete()
