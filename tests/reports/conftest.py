from tests.sales.conftest import STAGES, pipeline, stages, too_expensive  # noqa: F401

__all__ = ["STAGES"]
