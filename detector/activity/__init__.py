"""Inactivity and routine anomalies: a per-home model of how long quiet normally lasts.

``model`` holds the learned numbers (small numpy arrays per home), ``sensors`` says what a
device means (room, front door, bed), ``home`` is the per-home state machine and ``rule``
turns it into alerts. ``replay`` feeds recorded smart-home days through the same rule.
"""
