"""Versioned discovery rules data files (see docs/discovery.md)."""
