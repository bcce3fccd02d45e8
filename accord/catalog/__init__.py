"""The product and service catalogue: what a deal's line items are made of."""
