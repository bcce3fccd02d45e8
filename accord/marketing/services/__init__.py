"""Writes of marketing: channels and campaigns (`campaigns.py`), web forms and what
arrives through them (`forms.py`)."""

from accord.marketing.services.campaigns import (
    RECORD_TYPE,
    SHIPPED_CHANNELS,
    campaign_save,
    channel_save,
    ensure_shipped_channels,
    may_write_campaign,
)
from accord.marketing.services.forms import (
    FIELDS,
    Received,
    form_save,
    submission_receive,
)

__all__ = [
    "FIELDS",
    "RECORD_TYPE",
    "SHIPPED_CHANNELS",
    "Received",
    "campaign_save",
    "channel_save",
    "ensure_shipped_channels",
    "form_save",
    "may_write_campaign",
    "submission_receive",
]
