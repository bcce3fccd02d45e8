"""The pieces every app's API router shares: problem documents, pagination, schemas, ETags."""
