"""The production stack on one machine, on loopback: `make prod-up`, `make prod-down`,
`make prod-status` (docs/deploy.md, "One machine").

Everything lives in var/prod/ (PROD_DIR): its own PostgreSQL cluster (pg/, port 5433) and
redis-server (redis/, port 6380), so the system cluster on 5432 and the Redis on 6379 that
the tests use are never touched; generated secrets in `env` (mode 600, written once); a
self-signed certificate for 127.0.0.1 in tls/; the nginx configuration rendered from
deploy/nginx/ into nginx/; pid files in run/ and logs in log/. Then the Celery workers (queues
"celery" and "long") and beat, gunicorn (sync workers) and nginx; it waits until /healthz
answers 200. Running `up` again with everything up changes nothing.

    python tools/prod_stack.py up | down | status
    python tools/prod_stack.py nginx-site --server-name kejiyun.example.cn ...  # real servers

Settings, all optional: PROD_DIR, PROD_PG_PORT (5433), PROD_REDIS_PORT (6380),
PROD_HTTPS_PORT (8443), PROD_HTTP_PORT (8080), PROD_SMS_SINK_PORT (8444), PROD_BIND
(unix:var/prod/run/gunicorn.sock, or 127.0.0.1:PORT), PROD_WORKERS (2 gunicorn workers),
PROD_CELERY_CONCURRENCY (2), PROD_SCALE (small; large for province scale), PROD_SEED (1),
PG_BIN (the newest /usr/lib/postgresql/*/bin). MATCH_EMBEDDER, LOG_LEVEL and
DEPLOYMENT_PROVINCE pass through to the stack when set.

Each service has its own start and stop function (`pg_start`, `redis_stop`, `worker_start`,
…) taking a `Stack`, for drills that stop one service and start it again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PYTHON = ROOT / ".venv" / "bin" / "python"
VENV_BIN = ROOT / ".venv" / "bin"
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MIB = 1024 * 1024
# Secrets: generated once, kept across runs. Everything else in the env file is rewritten
# from the ports and paths of each run.
SECRET_NAMES = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "FIELD_LOOKUP_KEY",
    "HEALTHZ_TOKEN",
    "SMS_GATEWAY_SECRET",
    "PROD_PG_PASSWORD",
    "PROD_REDIS_PASSWORD",
)
PASS_THROUGH = ("MATCH_EMBEDDER", "LOG_LEVEL", "DEPLOYMENT_PROVINCE")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SystemExit(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _pg_bin() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise SystemExit(
            "PostgreSQL server programs not found: apt-get install postgresql (or set PG_BIN)"
        )
    return found[-1].parent


@dataclass(frozen=True)
class Stack:
    """Where everything is and which ports it uses (read from the environment)."""

    home: Path = field(
        default_factory=lambda: Path(os.environ.get("PROD_DIR") or ROOT / "var" / "prod")
    )
    pg_port: int = field(default_factory=lambda: _env_int("PROD_PG_PORT", 5433))
    redis_port: int = field(default_factory=lambda: _env_int("PROD_REDIS_PORT", 6380))
    https_port: int = field(default_factory=lambda: _env_int("PROD_HTTPS_PORT", 8443))
    http_port: int = field(default_factory=lambda: _env_int("PROD_HTTP_PORT", 8080))
    sms_sink_port: int = field(default_factory=lambda: _env_int("PROD_SMS_SINK_PORT", 8444))
    workers: int = field(default_factory=lambda: _env_int("PROD_WORKERS", 2))
    celery_concurrency: int = field(default_factory=lambda: _env_int("PROD_CELERY_CONCURRENCY", 2))
    scale: str = field(default_factory=lambda: os.environ.get("PROD_SCALE") or "small")
    seed: int = field(default_factory=lambda: _env_int("PROD_SEED", 1))
    bind_setting: str = field(default_factory=lambda: os.environ.get("PROD_BIND", ""))

    # --- paths ---
    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def log(self) -> Path:
        return self.home / "log"

    @property
    def pg_data(self) -> Path:
        return self.home / "pg"

    @property
    def pg_socket_dir(self) -> Path:
        return self.run / "pg"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"

    @property
    def tls(self) -> Path:
        return self.home / "tls"

    @property
    def nginx_dir(self) -> Path:
        return self.home / "nginx"

    @property
    def env_file(self) -> Path:
        return self.home / "env"

    @property
    def static_root(self) -> Path:
        return ROOT / "var" / "staticfiles"  # settings.STATIC_ROOT

    @property
    def media_root(self) -> Path:
        return ROOT / "var" / "media"  # settings.MEDIA_ROOT

    @property
    def private_root(self) -> Path:
        return self.home / "private"

    @property
    def bind(self) -> str:
        return self.bind_setting or f"unix:{self.run / 'gunicorn.sock'}"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/"

    def pid(self, name: str) -> Path:
        return self.run / f"{name}.pid"


# --- small helpers ------------------------------------------------------------------------


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, text=True, capture_output=True, check=False, **kw)  # type: ignore[call-overload]  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout}{done.stderr}"
        )
    return done  # type: ignore[no-any-return]


def pid_alive(path: Path) -> int | None:
    """The process id in `path` if that process runs, else None."""
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def stop_pid(
    path: Path,
    name: str,
    *,
    timeout: float = 30.0,
    sig: int = signal.SIGTERM,
    then: tuple[tuple[int, float], ...] = (),
) -> None:
    """Send `sig` to the process in `path` and wait up to `timeout` seconds; then each of
    `then` (signal, seconds) in turn; at last SIGKILL to its whole process group."""
    pid = pid_alive(path)
    if pid is None:
        path.unlink(missing_ok=True)
        return
    step(f"stopping {name} (pid {pid})")
    for signum, seconds in ((sig, timeout), *then):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and _exists(pid):
            time.sleep(0.2)
        if not _exists(pid):
            break
        step(f"{name} still running after {seconds:.0f}s")
    else:
        step(f"killing {name} and its children")
        group = os.getpgid(pid)
        if group != os.getpgrp():
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"{what} did not come up within {timeout:.0f}s")


# --- secrets and the env file ---------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def _random_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _new_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": f"v1:{_random_key()}",
        "FIELD_LOOKUP_KEY": _random_key(),
        "HEALTHZ_TOKEN": secrets.token_urlsafe(32),
        "SMS_GATEWAY_SECRET": secrets.token_urlsafe(32),
        "PROD_PG_PASSWORD": secrets.token_hex(24),
        "PROD_REDIS_PASSWORD": secrets.token_hex(24),
    }


def env_ensure(stack: Stack) -> dict[str, str]:
    """Write var/prod/env (mode 600): the secrets generated the first time and kept, and the
    configuration of this run. Returns the environment the stack's processes run with."""
    stack.home.mkdir(parents=True, exist_ok=True)
    kept = read_env_file(stack.env_file)
    fresh = _new_secrets()
    values = {name: kept.get(name) or fresh[name] for name in SECRET_NAMES}
    pg_password, redis_password = values["PROD_PG_PASSWORD"], values["PROD_REDIS_PASSWORD"]
    hosts = "127.0.0.1,localhost"
    origins = f"https://127.0.0.1:{stack.https_port},https://localhost:{stack.https_port}"
    config = {
        "DEBUG": "0",
        "OTP_REQUIRED": "1",
        "DATABASE_URL": f"postgres://kejiyun:{pg_password}@127.0.0.1:{stack.pg_port}/kejiyun",
        "REDIS_URL": f"redis://:{redis_password}@127.0.0.1:{stack.redis_port}/0",
        "REDIS_CACHE_URL": f"redis://:{redis_password}@127.0.0.1:{stack.redis_port}/1",
        "ALLOWED_HOSTS": hosts,
        "CSRF_TRUSTED_ORIGINS": origins,
        "CLIENT_IP_HEADER": "X-Real-IP",
        "PRIVATE_FILES_ACCEL": "/_private/",
        "PRIVATE_MEDIA_ROOT": str(stack.private_root),
        "MATCH_INDEX_DIR": str(stack.home / "match-index"),
        # The carrier's gateway stands in as an nginx location on its own loopback port
        # (answers 204 and logs to log/sms-gateway.log); its self-signed certificate is
        # trusted through SSL_CERT_FILE (the system CAs plus ours).
        "SMS_BACKEND": "kejiyun.notifications.sms.HttpGatewayBackend",
        "SMS_GATEWAY_URL": f"https://127.0.0.1:{stack.sms_sink_port}/send",
        "SSL_CERT_FILE": str(stack.tls / "ca-bundle.pem"),
        "DJANGO_SETTINGS_MODULE": "kejiyun.settings",
    }
    for name in PASS_THROUGH:
        if os.environ.get(name):
            config[name] = os.environ[name]
    values.update(config)
    text = "# Kejiyun production stack (tools/prod_stack.py). Secrets are generated once;\n"
    text += "# keep this file private (mode 600) and back it up: losing FIELD_* loses data.\n"
    text += "".join(f"{name}={value}\n" for name, value in values.items())
    stack.env_file.touch(mode=0o600, exist_ok=True)
    os.chmod(stack.env_file, 0o600)
    if stack.env_file.read_text() != text:
        stack.env_file.write_text(text)
    return values


def process_env(stack: Stack) -> dict[str, str]:
    """The environment of every Django, Celery and gunicorn process of the stack."""
    values = read_env_file(stack.env_file) or env_ensure(stack)
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME")}
    return {**inherited, "PYTHONPATH": str(ROOT), **values}


# --- TLS ------------------------------------------------------------------------------------


def tls_ensure(stack: Stack) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost (once), and a CA bundle of the
    system's CAs plus it for the processes that call the loopback SMS gateway."""
    stack.tls.mkdir(parents=True, exist_ok=True)
    cert, key = stack.tls / "cert.pem", stack.tls / "key.pem"
    if not (cert.exists() and key.exists()):
        step(f"generating a self-signed TLS certificate for 127.0.0.1 ({stack.tls})")
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "825",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ]
        )
        os.chmod(key, 0o600)
    bundle = stack.tls / "ca-bundle.pem"
    system = SYSTEM_CA_BUNDLE.read_text() if SYSTEM_CA_BUNDLE.exists() else ""
    wanted = system + cert.read_text()
    if not bundle.exists() or bundle.read_text() != wanted:
        bundle.write_text(wanted)


# --- nginx configuration --------------------------------------------------------------------


def body_limits() -> tuple[str, str]:
    """client_max_body_size for ordinary forms and for the science media form, from the
    upload limits in settings and code, in whole MB with room for the rest of the form."""
    image = _env_int("POPSCI_MAX_IMAGE_BYTES", 5 * MIB)
    video = _env_int("POPSCI_MAX_VIDEO_BYTES", 200 * MIB)
    attachments = 10 * MIB  # MAX_ATTACHMENT_BYTES of cases and recognition; .xlsx is 5 MB
    default = -(-attachments // MIB) + 2
    media = -(-(2 * image + video) // MIB) + 2
    return f"{default}m", f"{media}m"


def nginx_site(
    *,
    server_name: str,
    http_listen: str,
    https_listen: str,
    https_port_suffix: str,
    cert: str,
    key: str,
    upstream: str,
    static_root: str,
    media_root: str,
    private_root: str,
    proxy_params: str,
    stapling: bool,
) -> str:
    """deploy/nginx/kejiyun-site.conf.template with its @NAMES@ filled in."""
    default_body, media_body = body_limits()
    extra = (
        "    resolver 127.0.0.53 valid=300s;\n    resolver_timeout 5s;\n"
        "    # ssl_trusted_certificate /etc/ssl/kejiyun/chain.pem;  # the CA chain\n"
        if stapling
        else ""
    )
    names = {
        "SERVER_NAME": server_name,
        "HTTP_LISTEN": http_listen,
        "HTTPS_LISTEN": https_listen,
        "HTTPS_PORT_SUFFIX": https_port_suffix,
        "CERT": cert,
        "KEY": key,
        "UPSTREAM": upstream,
        "STATIC_ROOT": static_root.rstrip("/"),
        "MEDIA_ROOT": media_root.rstrip("/"),
        "PRIVATE_ROOT": private_root.rstrip("/"),
        "PROXY_PARAMS": proxy_params,
        "STAPLING": "on" if stapling else "off",
        "STAPLING_EXTRA": extra,
        "BODY_DEFAULT": default_body,
        "BODY_MEDIA": media_body,
    }
    text = (DEPLOY / "nginx" / "kejiyun-site.conf.template").read_text()
    text = re.sub(r"@([A-Z_]+)@", lambda m: names[m.group(1)], text)
    return text


NGINX_MAIN = """# Generated by tools/prod_stack.py for `make prod-up` (rewritten on every run).
{user}worker_processes auto;
pid {pid};
error_log {log}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    server_tokens off;
    access_log {log}/nginx-access.log combined buffer=32k flush=5s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};

    # The SMS carrier's gateway, stood in for on loopback: accepts every signed POST.
    server {{
        listen 127.0.0.1:{sms_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        access_log {log}/sms-gateway.log combined;
        location = /send {{ return 204; }}
        location / {{ return 404; }}
    }}
}}
"""


def nginx_config_write(stack: Stack) -> Path:
    """Render var/prod/nginx/{nginx.conf,kejiyun-site.conf,kejiyun-proxy.conf}."""
    tmp = stack.nginx_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stack.log.mkdir(parents=True, exist_ok=True)
    stack.run.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEPLOY / "nginx" / "kejiyun-proxy.conf", stack.nginx_dir / "kejiyun-proxy.conf")
    site = nginx_site(
        server_name="127.0.0.1 localhost",
        http_listen=f"127.0.0.1:{stack.http_port}",
        https_listen=f"127.0.0.1:{stack.https_port}",
        https_port_suffix=f":{stack.https_port}",
        cert=str(stack.tls / "cert.pem"),
        key=str(stack.tls / "key.pem"),
        upstream=stack.bind,
        static_root=str(stack.static_root),
        media_root=str(stack.media_root),
        private_root=str(stack.private_root),
        proxy_params=str(stack.nginx_dir / "kejiyun-proxy.conf"),
        stapling=False,
    )
    (stack.nginx_dir / "kejiyun-site.conf").write_text(site)
    main = NGINX_MAIN.format(
        user="user www-data;\n" if os.geteuid() == 0 else "",
        pid=stack.pid("nginx"),
        log=stack.log,
        tmp=tmp,
        site=stack.nginx_dir / "kejiyun-site.conf",
        sms_port=stack.sms_sink_port,
        cert=stack.tls / "cert.pem",
        key=stack.tls / "key.pem",
    )
    conf = stack.nginx_dir / "nginx.conf"
    conf.write_text(main)
    if os.geteuid() == 0:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp / sub).mkdir(exist_ok=True)
            shutil.chown(tmp / sub, "www-data")
    return conf


def nginx_ensure_installed() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    step("installing Debian's nginx")
    apt = {"DEBIAN_FRONTEND": "noninteractive", "PATH": os.environ.get("PATH", "")}
    run(["apt-get", "update", "-qq"], env=apt)
    run(["apt-get", "install", "-y", "-qq", "nginx"], env=apt)
    return shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_test(stack: Stack) -> str:
    """`nginx -t` on the rendered configuration; its output."""
    nginx = nginx_ensure_installed()
    conf = nginx_config_write(stack)
    done = run([nginx, "-t", "-q", "-p", str(stack.nginx_dir), "-c", str(conf)])
    return done.stdout + done.stderr


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_ready(stack: Stack) -> bool:
    pg_isready = _pg_bin() / "pg_isready"
    return (
        subprocess.run(  # noqa: S603
            [str(pg_isready), "-q", "-h", "127.0.0.1", "-p", str(stack.pg_port)], check=False
        ).returncode
        == 0
    )


def pg_start(stack: Stack) -> None:
    """initdb var/prod/pg (once), start it on 127.0.0.1:PROD_PG_PORT, and make sure the role
    and database `kejiyun` exist with the password of the env file."""
    pg_bin = _pg_bin()
    values = read_env_file(stack.env_file)
    stack.pg_socket_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(stack.pg_socket_dir, "postgres", "postgres")
    os.chmod(stack.pg_socket_dir, 0o700)
    if not (stack.pg_data / "PG_VERSION").exists():
        step(f"initdb {stack.pg_data} ({pg_bin.parent.name})")
        stack.pg_data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(stack.pg_data, "postgres", "postgres")
        os.chmod(stack.pg_data, 0o700)
        run(
            as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(stack.pg_data),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ]
            )
        )
        conf = stack.pg_data / "postgresql.conf"
        with conf.open("a") as out:
            out.write(
                "\n# Kejiyun (tools/prod_stack.py): loopback only; sized for a small machine.\n"
                "listen_addresses = '127.0.0.1'\n"
                "max_connections = 100\n"
                "shared_buffers = 256MB\n"
                "effective_cache_size = 1GB\n"
                "work_mem = 8MB\n"
                "maintenance_work_mem = 128MB\n"
                "wal_compression = on\n"
                "checkpoint_timeout = 15min\n"
                "log_min_duration_statement = 1000\n"
                "log_timezone = 'Asia/Shanghai'\n"
                "timezone = 'UTC'\n"
            )
    log = stack.log / "postgresql.log"
    stack.log.mkdir(parents=True, exist_ok=True)
    log.touch(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(log, "postgres", "postgres")
    if not pg_ready(stack):
        step(f"starting PostgreSQL on 127.0.0.1:{stack.pg_port}")
        run(
            as_postgres(
                [
                    str(pg_bin / "pg_ctl"),
                    "-D",
                    str(stack.pg_data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {stack.pg_port} -k {stack.pg_socket_dir}",
                    "start",
                ]
            )
        )
    password = values["PROD_PG_PASSWORD"]
    sql = (
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kejiyun') THEN "
        f"CREATE ROLE kejiyun LOGIN PASSWORD '{password}'; ELSE "
        f"ALTER ROLE kejiyun PASSWORD '{password}'; END IF; END$$;"
    )
    _psql(stack, sql)
    if _psql(stack, "SELECT 1 FROM pg_database WHERE datname = 'kejiyun'").strip() != "1":
        _psql(stack, "CREATE DATABASE kejiyun OWNER kejiyun")


def _psql(stack: Stack, sql: str, db: str = "postgres") -> str:
    command = [
        str(_pg_bin() / "psql"),
        "-h",
        str(stack.pg_socket_dir),
        "-p",
        str(stack.pg_port),
        "-U",
        "postgres",
        "-d",
        db,
        "-AtqX",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]
    return run(as_postgres(command)).stdout


def pg_stop(stack: Stack) -> None:
    if not (stack.pg_data / "postmaster.pid").exists():
        return
    step("stopping PostgreSQL")
    subprocess.run(  # noqa: S603
        as_postgres(
            [str(_pg_bin() / "pg_ctl"), "-D", str(stack.pg_data), "-m", "fast", "-w", "stop"]
        ),
        check=False,
        capture_output=True,
    )


# --- Redis ----------------------------------------------------------------------------------


def redis_ping(stack: Stack) -> bool:
    password = read_env_file(stack.env_file).get("PROD_REDIS_PASSWORD", "")
    done = subprocess.run(  # noqa: S603
        [
            shutil.which("redis-cli") or "redis-cli",
            "-h",
            "127.0.0.1",
            "-p",
            str(stack.redis_port),
            "--no-auth-warning",
            "-a",
            password,
            "ping",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() == "PONG"


def redis_start(stack: Stack) -> None:
    """redis-server on 127.0.0.1:PROD_REDIS_PORT: the broker in database 0 (append-only
    file, so queued tasks survive a restart), the cache in database 1. Only keys with an
    expiry are evicted under memory pressure: the cache's, never the broker's."""
    if pid_alive(stack.pid("redis")) and redis_ping(stack):
        return
    stack.redis_dir.mkdir(parents=True, exist_ok=True)
    conf = stack.redis_dir / "redis.conf"
    password = read_env_file(stack.env_file)["PROD_REDIS_PASSWORD"]
    conf.touch(mode=0o600, exist_ok=True)
    os.chmod(conf, 0o600)
    conf.write_text(
        "# Generated by tools/prod_stack.py\n"
        f"bind 127.0.0.1\nport {stack.redis_port}\nprotected-mode yes\n"
        f"requirepass {password}\n"
        f"daemonize yes\npidfile {stack.pid('redis')}\n"
        f"logfile {stack.log / 'redis.log'}\ndir {stack.redis_dir}\n"
        'save ""\nappendonly yes\nappendfsync everysec\n'
        "maxmemory 512mb\nmaxmemory-policy volatile-lru\n"
    )
    step(f"starting redis-server on 127.0.0.1:{stack.redis_port}")
    run([shutil.which("redis-server") or "redis-server", str(conf)])
    wait_for(lambda: redis_ping(stack), "redis-server", 20)


def redis_stop(stack: Stack) -> None:
    stop_pid(stack.pid("redis"), "redis-server")


# --- Django steps ---------------------------------------------------------------------------


def manage(stack: Stack, *args: str, capture: bool = True) -> str:
    done = subprocess.run(  # noqa: S603
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=process_env(stack),
        text=True,
        capture_output=capture,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout or ""


def static_fingerprint() -> str:
    """What collectstatic's output depends on: the project's static files (names, sizes,
    times) and the locked packages whose apps ship static files."""
    digest = hashlib.sha256((ROOT / "requirements.lock").read_bytes())
    for path in sorted((ROOT / "kejiyun").rglob("static/**/*")):
        if path.is_file():
            info = path.stat()
            digest.update(f"{path.relative_to(ROOT)}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()


def database_is_empty(stack: Stack) -> bool:
    count = _psql(stack, "SELECT count(*) FROM accounts_user", db="kejiyun").strip()
    return count == "0"


def django_prepare(stack: Stack) -> None:
    """migrate, load the regions and classifications (idempotent), collect the static files,
    and seed the demo data and the demo administrator when the database has no user yet."""
    step("migrate")
    migrated = manage(stack, "migrate", "--noinput")
    empty = database_is_empty(stack)
    if empty or "No migrations to apply" not in migrated:
        step("load_regions, load_classifications")
        manage(stack, "load_regions")
        manage(stack, "load_classifications")
    stamp = stack.home / "static.stamp"
    fingerprint = static_fingerprint()
    manifest = stack.static_root / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        step("static files unchanged since the last collectstatic")
    else:
        step("collectstatic (hashed names, compressed copies)")
        manage(stack, "collectstatic", "--noinput", "-v", "0")
        stamp.write_text(fingerprint)
    if empty:
        step(f"seed_demo --scale {stack.scale} --seed {stack.seed} (the database is empty)")
        out = manage(stack, "seed_demo", "--scale", stack.scale, "--seed", str(stack.seed))
        (stack.log / "seed_demo.log").write_text(out)
        admin = manage(stack, "create_demo_admin")
        path = stack.home / "admin.txt"
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)
        path.write_text(admin)
    else:
        step("the database holds data: not seeding")


# --- Celery, gunicorn, nginx ----------------------------------------------------------------


# The Celery workers: one per queue (settings.CELERY_TASK_ROUTES): "celery" for the short
# jobs users wait on, "long" for the ones that run for minutes.
WORKERS = {"celery-worker": "celery", "celery-long": "long"}


def worker_start(stack: Stack) -> None:
    for name, queue in WORKERS.items():
        if pid_alive(stack.pid(name)):
            continue
        concurrency = stack.celery_concurrency if queue == "celery" else 1
        step(f"starting the Celery worker of queue '{queue}' ({concurrency} processes)")
        run(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "kejiyun",
                "worker",
                "--detach",
                "--queues",
                queue,
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{queue}@{os.uname().nodename}",
                "--without-gossip",
                "--without-mingle",
                "--max-tasks-per-child",
                "200",
                "--pidfile",
                str(stack.pid(name)),
                "--logfile",
                str(stack.log / f"{name}.log"),
            ],
            cwd=ROOT,
            env=process_env(stack),
        )
    for name in WORKERS:
        pidfile = stack.pid(name)
        wait_for(partial(_running, pidfile), name, 30)


def _running(pidfile: Path) -> bool:
    return pid_alive(pidfile) is not None


def worker_stop(stack: Stack, *, timeout: float = 30.0) -> None:
    """Warm shutdown (the workers finish their tasks) for `timeout` seconds, then a cold one
    (SIGQUIT), then SIGKILL: a task cut short was not acknowledged (acks late), so Redis
    hands it out again (at once after a clean close, after the visibility timeout if not)."""
    for name in WORKERS:
        stop_pid(stack.pid(name), name, timeout=timeout, then=((signal.SIGQUIT, 15.0),))


def beat_start(stack: Stack) -> None:
    if pid_alive(stack.pid("celery-beat")):
        return
    step("starting Celery beat (every entry of CELERY_BEAT_SCHEDULE)")
    run(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "kejiyun",
            "beat",
            "--detach",
            "--loglevel",
            "INFO",
            "--schedule",
            str(stack.home / "celerybeat-schedule"),
            "--pidfile",
            str(stack.pid("celery-beat")),
            "--logfile",
            str(stack.log / "celery-beat.log"),
        ],
        cwd=ROOT,
        env=process_env(stack),
    )
    wait_for(lambda: pid_alive(stack.pid("celery-beat")) is not None, "celery beat", 30)


def beat_stop(stack: Stack) -> None:
    stop_pid(stack.pid("celery-beat"), "Celery beat")


def gunicorn_start(stack: Stack) -> None:
    if pid_alive(stack.pid("gunicorn")):
        return
    step(f"starting gunicorn ({stack.workers} sync workers on {stack.bind})")
    env = {
        **process_env(stack),
        "GUNICORN_BIND": stack.bind,
        "GUNICORN_WORKERS": str(stack.workers),
        "GUNICORN_PIDFILE": str(stack.pid("gunicorn")),
        "GUNICORN_CONTROL_SOCKET": str(stack.run / "gunicorn.ctl"),
        "GUNICORN_ACCESS_LOG": str(stack.log / "gunicorn-access.log"),
        "GUNICORN_ERROR_LOG": str(stack.log / "gunicorn-error.log"),
    }
    # Detached by a new session rather than --daemon (gunicorn 27's daemon mode exits
    # silently here); its output goes to the error log, the pid file is gunicorn's own.
    with (stack.log / "gunicorn-error.log").open("ab") as out:
        subprocess.Popen(  # noqa: S603
            [str(VENV_BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    wait_for(lambda: pid_alive(stack.pid("gunicorn")) is not None, "gunicorn", 30)


def gunicorn_stop(stack: Stack) -> None:
    stop_pid(stack.pid("gunicorn"), "gunicorn", timeout=40)


def nginx_start(stack: Stack) -> None:
    nginx = nginx_ensure_installed()
    conf = nginx_config_write(stack)
    run([nginx, "-t", "-q", "-p", str(stack.nginx_dir), "-c", str(conf)])
    if pid_alive(stack.pid("nginx")):
        run([nginx, "-p", str(stack.nginx_dir), "-c", str(conf), "-s", "reload"])
        return
    step(f"starting nginx (https {stack.https_port}, http {stack.http_port} redirecting)")
    run([nginx, "-p", str(stack.nginx_dir), "-c", str(conf)])
    wait_for(lambda: pid_alive(stack.pid("nginx")) is not None, "nginx", 20)


def nginx_stop(stack: Stack) -> None:
    stop_pid(stack.pid("nginx"), "nginx", sig=signal.SIGQUIT)  # graceful


def healthz(stack: Stack, *, timeout: float = 5.0) -> int | None:
    """The status of https://127.0.0.1:PORT/healthz through nginx (None: no answer)."""
    context = ssl.create_default_context(cafile=str(stack.tls / "cert.pem"))
    try:
        with urllib.request.urlopen(  # noqa: S310 (our own loopback URL)
            f"{stack.url}healthz", context=context, timeout=timeout
        ) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


# --- the whole stack ------------------------------------------------------------------------

SERVICES = ("postgresql", "redis", *WORKERS, "celery-beat", "gunicorn", "nginx")


def up(stack: Stack) -> None:
    started = time.monotonic()
    if not PYTHON.exists():
        raise SystemExit(".venv is missing: run `make setup` first")
    for sub in (stack.home, stack.run, stack.log, stack.private_root):
        sub.mkdir(parents=True, exist_ok=True)
    env_ensure(stack)
    tls_ensure(stack)
    pg_start(stack)
    redis_start(stack)
    django_prepare(stack)
    worker_start(stack)
    beat_start(stack)
    gunicorn_start(stack)
    nginx_start(stack)
    wait_for(lambda: healthz(stack) == 200, f"{stack.url}healthz", 90)
    step(f"up in {time.monotonic() - started:.0f}s")
    print(sign_in_help(stack), flush=True)


def sign_in_help(stack: Stack) -> str:
    admin = stack.home / "admin.txt"
    return (
        f"\nKejiyun is up at {stack.url} (self-signed certificate: "
        f"curl --cacert {stack.tls / 'cert.pem'} {stack.url})\n"
        f"  http://127.0.0.1:{stack.http_port}/ redirects there.\n"
        "  Sign in as a demo user with the demo password Bamboo-Panda-Tea-2026:\n"
        "    demo_e_000001 (enterprise), demo_w_000001 (S&T worker), demo_c_000001 (citizen);\n"
        "    demo_staff_shuangliu / demo_staff_chengdu / demo_staff_province (staff: the first\n"
        "    sign-in asks you to bind an authenticator app for the TOTP second factor).\n"
        f"  The administrator 'admin': its password is in {admin} (mode 600).\n"
        f"  Settings and secrets: {stack.env_file}; logs: {stack.log}/.\n"
        "  Stop everything with `make prod-down`."
    )


def down(stack: Stack) -> None:
    nginx_stop(stack)
    gunicorn_stop(stack)
    beat_stop(stack)
    worker_stop(stack)
    redis_stop(stack)
    pg_stop(stack)
    step("the production stack is down")


def status(stack: Stack) -> dict[str, bool]:
    """Whether each service runs (and the site answers), printed one per line."""
    states = {
        "postgresql": pg_ready(stack),
        "redis": pid_alive(stack.pid("redis")) is not None,
        "celery-worker": pid_alive(stack.pid("celery-worker")) is not None,
        "celery-long": pid_alive(stack.pid("celery-long")) is not None,
        "celery-beat": pid_alive(stack.pid("celery-beat")) is not None,
        "gunicorn": pid_alive(stack.pid("gunicorn")) is not None,
        "nginx": pid_alive(stack.pid("nginx")) is not None,
    }
    for name, running in states.items():
        print(f"{name:14} {'running' if running else 'stopped'}")
    code = healthz(stack) if states["nginx"] else None
    print(f"{'healthz':14} {code if code is not None else 'no answer'} ({stack.url}healthz)")
    return states


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start (or complete) the stack")
    sub.add_parser("down", help="stop every service of the stack")
    sub.add_parser("status", help="which services run")
    sub.add_parser("nginx-test", help="render the loopback nginx configuration and nginx -t it")
    site = sub.add_parser("nginx-site", help="print the site configuration for a real server")
    site.add_argument("--server-name", required=True)
    site.add_argument("--cert", required=True)
    site.add_argument("--key", required=True)
    site.add_argument("--root", default="/srv/kejiyun", help="the checkout (var/ beneath it)")
    site.add_argument("--private-root", default="", help="PRIVATE_MEDIA_ROOT")
    site.add_argument("--upstream", default="unix:/run/kejiyun/gunicorn.sock")
    site.add_argument("--proxy-params", default="/etc/nginx/snippets/kejiyun-proxy.conf")
    site.add_argument("--stapling", choices=("on", "off"), default="on")
    args = parser.parse_args(argv)
    stack = Stack()
    if args.command == "up":
        up(stack)
    elif args.command == "down":
        down(stack)
    elif args.command == "status":
        return 0 if all(status(stack).values()) else 3
    elif args.command == "nginx-test":
        tls_ensure(stack)
        print(nginx_test(stack) or "nginx -t: configuration ok")
    else:
        root = args.root.rstrip("/")
        print(
            nginx_site(
                server_name=args.server_name,
                http_listen="80",
                https_listen="443",
                https_port_suffix="",
                cert=args.cert,
                key=args.key,
                upstream=args.upstream,
                static_root=f"{root}/var/staticfiles",
                media_root=f"{root}/var/media",
                private_root=args.private_root or f"{root}/var/private",
                proxy_params=args.proxy_params,
                stapling=args.stapling == "on",
            ),
            end="",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
