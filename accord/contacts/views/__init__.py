"""Client screens (the split into topic modules follows in the next commit)."""

from accord.contacts.views.lists import *  # noqa: F403
