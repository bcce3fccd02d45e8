"""Answers kept for POST requests sent with an Idempotency-Key, so a retry gets the same."""

from django.db import models


class IdempotentAnswer(models.Model):
    # Whose request: a hash of the credentials (token or session), so keys never collide.
    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body of the request
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotent_answer_unique")
        ]

    def __str__(self) -> str:
        return self.key
