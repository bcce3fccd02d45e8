"""Users, roles, teams and API tokens."""
