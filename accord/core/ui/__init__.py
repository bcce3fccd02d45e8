"""The pieces every app's screens share: form plumbing, the record picker, record timelines."""
