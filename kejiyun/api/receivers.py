"""Domain events → webhook deliveries (filled in by the webhooks work)."""
