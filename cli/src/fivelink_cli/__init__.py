"""fivelink package."""
