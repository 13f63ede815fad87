"""Supervision of every centre, the escalation inbox and the supply-demand gap."""
