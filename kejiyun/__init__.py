"""Kejiyun (科技云): the Django project that runs a province's S&T service cloud."""

# Load the Celery app with Django so tasks queued from web processes use its settings.
from kejiyun.celery import app as celery_app

__all__ = ["celery_app"]
