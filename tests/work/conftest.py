from tests.sales.conftest import pipeline, stages  # noqa: F401 (fixtures shared with sales)
