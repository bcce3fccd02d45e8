import pytest

from tests.sales.conftest import STAGES, pipeline, stages  # noqa: F401 (fixtures)

__all__ = ["STAGES"]


@pytest.fixture
def rule_for(admin):
    """Save a rule as the administrator, on by default."""
    from accord.automation.services import rule_save

    def make(**data):
        data.setdefault("name", "A rule")
        data.setdefault("subject", "deal")
        data.setdefault("trigger", "created")
        data.setdefault("enabled", True)
        return rule_save(actor=admin, data=data)

    return make
