"""Every write about users, teams, roles, sessions, tokens and schedules, by topic;
callers import from here.

Each function checks that the actor may do it, validates, writes in one transaction
and announces what happened after commit.
"""

from accord.accounts.services.roles import role_delete, role_save
from accord.accounts.services.schedules import absence_add, absence_delete, schedule_save
from accord.accounts.services.sessions import session_ended, session_started
from accord.accounts.services.teams import team_delete, team_save
from accord.accounts.services.tokens import token_authenticate, token_create, token_revoke
from accord.accounts.services.two_factor import (
    two_factor_disable,
    two_factor_enrol,
    two_factor_pending_device,
)
from accord.accounts.services.users import (
    password_change,
    password_expired,
    preference_set,
    security_policy_update,
    user_create,
    user_set_active,
    user_update,
)

__all__ = [
    "absence_add",
    "absence_delete",
    "password_change",
    "password_expired",
    "preference_set",
    "role_delete",
    "role_save",
    "schedule_save",
    "security_policy_update",
    "session_ended",
    "session_started",
    "team_delete",
    "team_save",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "two_factor_disable",
    "two_factor_enrol",
    "two_factor_pending_device",
    "user_create",
    "user_set_active",
    "user_update",
]
