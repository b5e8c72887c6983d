"""Intake's domain core: cases (one plan per person) and offers, without I/O."""
