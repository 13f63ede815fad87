"""Home of the recognition domain; its models arrive with the issue that builds it."""
