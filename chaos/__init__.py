"""Chaos harness: the real system under a seeded fault schedule (``eldercare chaos``)."""
