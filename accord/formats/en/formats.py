"""English as Accord's markets write it: weeks start on Monday (ISO 8601), not Sunday.
Everything else comes from Django's own English formats."""

FIRST_DAY_OF_WEEK = 1  # Monday
