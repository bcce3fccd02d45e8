"""Every write of the sales funnel, by topic; callers import from here.

A deal's amount is the sum of its line items when it has any. Every stage move is
recorded (from, to, who, when, time spent) for the funnel report and the deal page.
"""

from accord.sales.services.common import can_change
from accord.sales.services.deals import (
    DEAL_FIELDS,
    deal_create,
    deal_lose,
    deal_move,
    deal_note_add,
    deal_reopen,
    deal_tags_add,
    deal_update,
    deal_win,
    deals_bulk_assign,
)
from accord.sales.services.lines import line_item_delete, line_item_save
from accord.sales.services.pipelines import (
    lost_reason_retire,
    lost_reason_save,
    pipeline_create,
    pipeline_rename,
    pipeline_retire,
    stage_add,
    stage_reorder,
    stage_retire,
    stage_update,
)
from accord.sales.services.products import product_save

__all__ = [
    "DEAL_FIELDS",
    "can_change",
    "deal_create",
    "deal_lose",
    "deal_move",
    "deal_note_add",
    "deal_reopen",
    "deal_tags_add",
    "deal_update",
    "deal_win",
    "deals_bulk_assign",
    "line_item_delete",
    "line_item_save",
    "lost_reason_retire",
    "lost_reason_save",
    "pipeline_create",
    "pipeline_rename",
    "pipeline_retire",
    "product_save",
    "stage_add",
    "stage_reorder",
    "stage_retire",
    "stage_update",
]
