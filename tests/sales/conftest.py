import pytest

from accord.sales.models import LostReason, Pipeline
from accord.sales.services import pipeline_create

STAGES = [
    {"name": "Request", "probability": 10, "rotting_days": 3},
    {"name": "Measured", "probability": 40},
    {"name": "Offer", "probability": 70},
    {"name": "Won", "kind": "won", "probability": 100},
    {"name": "Lost", "kind": "lost", "probability": 0},
]


@pytest.fixture
def pipeline(admin):
    # Replace the starter pipeline every new company gets with the one these tests know.
    Pipeline.objects.all().delete()
    return pipeline_create(actor=admin, name="Windows", stages=STAGES)


@pytest.fixture
def stages(pipeline):
    return {stage.name: stage for stage in pipeline.stages.all()}


@pytest.fixture
def too_expensive(admin):
    return LostReason.objects.get(name="Too expensive")  # one of the starter reasons
