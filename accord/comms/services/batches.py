"""What a worker's batch of calls or messages writes together at its end, rather than
a statement each: timeline entries, outbox events, the statistics' rollups and the
clients' last contact."""

from contextlib import contextmanager

from accord.comms.services.stats import stats_gathered
from accord.contacts.services import contacts_gathered
from accord.core.events import emits_gathered
from accord.core.timeline import timeline_gathered


@contextmanager
def gathered():
    """Inside a transaction: the block's timeline entries, events, rollups and clients
    contacted are written when it ends, in that transaction; an exception writes none
    (so a batch that failed and is applied again one by one writes each once)."""
    with timeline_gathered(), emits_gathered(), stats_gathered(), contacts_gathered():
        yield
