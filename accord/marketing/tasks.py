"""Background tasks of marketing (django.tasks: the database queue, or RQ)."""

from django.tasks import task

from accord.marketing.services.consent import consent_request_send


@task
def send_consent_mail(request_id: int) -> bool:
    """E-mail a web form's double opt-in link; see accord.marketing.services.consent."""
    return consent_request_send(request_id)
