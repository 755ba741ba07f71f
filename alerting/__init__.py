"""Responsibility: every alert is stored, tracked and escalated until a person takes it."""
