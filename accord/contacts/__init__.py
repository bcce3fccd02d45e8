"""Clients: people and companies, their phones and e-mails, tags, duplicates and merge."""
