"""Outreach: science activities (sign-up, check-in, feedback) and the outcomes of science
popularisation (reach, read-to-end, quiz before and after, attendance; the staff dashboard)."""
