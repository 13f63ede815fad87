"""Dashboards: headline figures, trends, ranking and the map of Sichuan."""
