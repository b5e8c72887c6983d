"""Intake's adapters: the store (MongoDB), field encryption and the outbox relay."""
