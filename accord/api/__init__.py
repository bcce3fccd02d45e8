"""The REST API: assembles each app's router under /api/v1/; auth, errors, pagination."""
