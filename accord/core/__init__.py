"""The shared kernel: base fields, domain events, the timeline, worker plumbing."""
