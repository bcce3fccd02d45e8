"""Background tasks of the kernel."""

from django.tasks import task

from accord.core import events


@task
def ping(message: str = "pong") -> str:
    """Proves a worker picks up and runs tasks: answers with its message."""
    return message


@task
def events_dispatch(ids: list[int]) -> int:
    """Runs the handlers of committed events on a worker (`ACCORD_EVENTS_ON_WORKERS`)."""
    return events.dispatch(ids)
