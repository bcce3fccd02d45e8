"""Background tasks of documents (django.tasks: the database queue, or RQ)."""

from django.tasks import task

from accord.documents.services.documents import document_make


@task
def make_document(document_id: int) -> str:
    """Render one document's PDF; see accord.documents.services.documents.document_make."""
    return document_make(document_id)
