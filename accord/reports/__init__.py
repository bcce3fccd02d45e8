"""Reports and analytics screens; the queries live with the data they read."""
