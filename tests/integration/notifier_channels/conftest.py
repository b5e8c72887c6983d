"""Fixtures for the notifier channel integration tests."""

from notifier_receiver import receiver

__all__ = ["receiver"]
