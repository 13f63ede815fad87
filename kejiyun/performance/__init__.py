"""Home of the performance domain; its models arrive with the issue that builds it."""
