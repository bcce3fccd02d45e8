"""PostgreSQL: tell the planner that a deal's stage decides its pipeline and status.

Without it, the board's column query (stage = x AND pipeline = y AND status = 'open')
was estimated at 22 rows instead of 1,249, and PostgreSQL bitmap-scanned and sorted the
whole column instead of reading its first 51 cards from the (stage, board_rank) index:
3.3 ms instead of 0.8 per column at 10,000 open deals.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE STATISTICS IF NOT EXISTS deal_stage_deps (dependencies) "
            "ON stage_id, pipeline_id, status FROM sales_deal"
        )
        schema_editor.execute("ANALYZE sales_deal")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS deal_stage_deps")


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_funnel_covering_index")]
    operations = [migrations.RunPython(create, drop)]
