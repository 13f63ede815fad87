"""gunicorn settings of Kejiyun (ADR 0018): sync workers behind nginx, which buffers slow
clients, so each worker serves one request at a time at full speed.

Used by `make prod-up` (tools/prod_stack.py) and by deploy/systemd/kejiyun-gunicorn.service:
    gunicorn --config deploy/gunicorn.conf.py
Everything that differs between the two comes from the environment (GUNICORN_*).
"""

import os

wsgi_app = "kejiyun.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "unix:/run/kejiyun/gunicorn.sock")]
# Sync workers: the platform's requests are short database work; nginx in front absorbs slow
# clients and uploads, so a worker is never held by a client's network. About 2 per core.
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# A request that takes longer than this is killed (and logged): no page should come near.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then (memory held by a big export does not stay forever); the
# jitter keeps them from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# The socket is reachable by nginx alone; X-Forwarded-Proto from it marks https requests.
forwarded_allow_ips = "127.0.0.1,::1"
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-real-ip}i)s"'
proc_name = "kejiyun"
# gunicorn's control socket (`gunicornc`), beside the pid file rather than in $HOME, where
# a second gunicorn on the machine would take the same path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "/run/kejiyun/gunicorn.ctl")
