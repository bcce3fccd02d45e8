"""Every write about users, teams and roles (the split into topic modules follows in the next commit)."""

from accord.accounts.services.users import *  # noqa: F403
