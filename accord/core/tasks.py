"""Background tasks of the kernel."""

from django.tasks import task


@task
def ping(message: str = "pong") -> str:
    """Proves a worker picks up and runs tasks: answers with its message."""
    return message
