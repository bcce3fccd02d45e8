"""Every write of the sales funnel (the split into topic modules follows in the next commit)."""

from accord.sales.services.deals import *  # noqa: F403
