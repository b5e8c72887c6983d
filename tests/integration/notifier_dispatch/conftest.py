"""Fixtures for the notifier dispatcher integration tests."""

from notifier_dispatch_support import harness, notifier_mongo_url, smtp

__all__ = ["harness", "notifier_mongo_url", "smtp"]
