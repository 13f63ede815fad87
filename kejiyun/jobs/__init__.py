"""The periodic jobs, run in-process: `manage.py run_periodic` runs every task of
`settings.CELERY_BEAT_SCHEDULE` at its interval beside the web server, where production runs
`celery beat` with a worker over the same list."""
