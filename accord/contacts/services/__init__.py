"""Every write about clients (the split into topic modules follows in the next commit)."""

from accord.contacts.services.clients import *  # noqa: F403
