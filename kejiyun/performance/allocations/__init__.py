"""allocations (issue 12)."""
