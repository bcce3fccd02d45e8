"""The sales funnel: pipelines and stages, deals, line items, lost reasons, stage history."""
