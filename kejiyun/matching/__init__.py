"""Home of the matching domain; its models arrive with the issue that builds it."""
