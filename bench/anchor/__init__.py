"""The anchor of `make bench-pages`: a bare Django 5.2 project whose one page lists 20 rows from
its own SQLite database through a template (issue 16, item 3).

It is what `django-admin startproject` writes (its apps, middleware and template settings),
with DEBUG off (so Django's default template loaders are the cached ones), plus one app
(`rows`) with one model and one list view. Nothing of Kejiyun is imported. bench/pages.py
builds its database and serves it with the same gunicorn settings as Kejiyun.
"""
