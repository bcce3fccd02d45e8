"""Background tasks of marketing (django.tasks: the database queue, or RQ)."""

from django.tasks import task

from accord.marketing.services.consent import consent_request_send
from accord.marketing.services.filing import submissions_drain


@task
def send_consent_mail(request_id: int) -> bool:
    """E-mail a web form's double opt-in link; see accord.marketing.services.consent."""
    return consent_request_send(request_id)


@task
def file_web_requests(form_id: int, seen: int = 0, waited: float = 0.0) -> int:
    """File a web form's requests that arrived (kept by its page; one pass queued for a
    burst); see accord.marketing.services.filing. Answers how many were filed."""
    return submissions_drain(form_id=form_id, seen=seen, waited=waited)
