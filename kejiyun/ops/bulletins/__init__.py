"""Bulletins (通报): figures, ranking, lagging centres and commentary, as PDF and Excel."""
