"""Kejiyun (科技云): the Django project that runs a province's S&T service cloud."""
