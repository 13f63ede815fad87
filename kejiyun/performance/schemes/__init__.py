"""schemes (issue 12)."""
