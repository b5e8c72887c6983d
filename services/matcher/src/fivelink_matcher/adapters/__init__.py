"""Matcher adapters: its own store of cases, offers and assignments."""
