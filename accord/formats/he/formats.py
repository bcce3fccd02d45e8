"""Hebrew as Israel writes numbers and money: thousands grouped by a comma (1,234,567.50).
Everything else comes from Django's own Hebrew formats."""

NUMBER_GROUPING = 3
THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
