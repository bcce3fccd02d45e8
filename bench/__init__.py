"""Accord's benchmark suite: a client-base generator and a runner (see docs/performance.md)."""
