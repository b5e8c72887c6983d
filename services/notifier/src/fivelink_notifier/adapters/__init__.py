"""Notifier adapters: subscriptions, deliveries and the in-app inbox in MongoDB."""
