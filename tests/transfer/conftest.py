import pytest


@pytest.fixture(autouse=True)
def phone_region(settings):
    """Numbers without a country code are read as Russian ones, as a Moscow office would."""
    settings.ACCORD_PHONE_REGION = "RU"
