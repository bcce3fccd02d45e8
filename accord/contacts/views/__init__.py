"""Client screens by topic: lists, segments, the card, the forms, duplicates and merge.

The transfer screens reuse a list's kind and filters from here (`kind_for`,
`requested_filters`), so an export takes exactly what the list shows.
"""

from accord.contacts.views.kinds import kind_for
from accord.contacts.views.lists import requested_filters

__all__ = ["kind_for", "requested_filters"]
