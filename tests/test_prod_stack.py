"""The nginx configuration that `make prod-up` renders (tools/prod_stack.py) passes
`nginx -t`, for loopback and for a real server, and agrees with the settings it serves:
the upload limits, the private-file location and the proxy headers. No server is started."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import prod_stack  # noqa: E402

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (make prod-up installs it)"
)


def stack_in(tmp_path: Path) -> prod_stack.Stack:
    return prod_stack.Stack(home=tmp_path / "prod", https_port=18443, http_port=18080)


def nginx_t(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    assert NGINX is not None
    return subprocess.run(  # noqa: S603
        [NGINX, "-t", "-p", str(prefix), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )


@needs_nginx
def test_the_loopback_configuration_passes_nginx_t(tmp_path: Path) -> None:
    stack = stack_in(tmp_path)
    prod_stack.tls_ensure(stack)
    conf = prod_stack.nginx_config_write(stack)
    done = nginx_t(conf, stack.nginx_dir)
    assert done.returncode == 0, done.stderr
    site = (stack.nginx_dir / "kejiyun-site.conf").read_text()
    assert not re.search(r"@[A-Z_]+@", site)
    assert "listen 127.0.0.1:18443 ssl" in site
    assert "return 301 https://$host:18443$request_uri;" in site


@needs_nginx
def test_the_real_server_configuration_passes_nginx_t_with_stapling(tmp_path: Path) -> None:
    stack = stack_in(tmp_path)
    prod_stack.tls_ensure(stack)
    site = prod_stack.nginx_site(
        server_name="kejiyun.example.cn",
        http_listen="127.0.0.1:18081",
        https_listen="127.0.0.1:18444",
        https_port_suffix="",
        cert=str(stack.tls / "cert.pem"),
        key=str(stack.tls / "key.pem"),
        upstream="unix:/run/kejiyun/gunicorn.sock",
        static_root="/srv/kejiyun/var/staticfiles",
        media_root="/srv/kejiyun/var/media",
        private_root="/srv/kejiyun/var/private",
        proxy_params=str(prod_stack.DEPLOY / "nginx" / "kejiyun-proxy.conf"),
        stapling=True,
    )
    assert "ssl_stapling on;" in site and "ssl_protocols TLSv1.2 TLSv1.3;" in site
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n    include /etc/nginx/mime.types;\n"
        f"    include {tmp_path}/site.conf;\n}}\n"
    )
    done = nginx_t(tmp_path / "nginx.conf", tmp_path)
    assert done.returncode == 0, done.stderr


def test_body_limits_follow_the_upload_limits() -> None:
    default, media = prod_stack.body_limits()
    mib = 1024 * 1024
    largest_form = 2 * settings.POPSCI_MAX_IMAGE_BYTES + settings.POPSCI_MAX_VIDEO_BYTES
    assert int(media.rstrip("m")) * mib > largest_form
    assert int(default.rstrip("m")) * mib > 10 * mib  # case and recognition attachments
    assert int(default.rstrip("m")) * mib < settings.POPSCI_MAX_VIDEO_BYTES


def test_private_files_are_internal_and_the_proxy_names_the_client(tmp_path: Path) -> None:
    site = prod_stack.nginx_site(
        server_name="kejiyun.example.cn",
        http_listen="80",
        https_listen="443",
        https_port_suffix="",
        cert="/etc/ssl/kejiyun/fullchain.pem",
        key="/etc/ssl/kejiyun/privkey.pem",
        upstream="unix:/run/kejiyun/gunicorn.sock",
        static_root="/srv/kejiyun/var/staticfiles",
        media_root="/srv/kejiyun/var/media",
        private_root="/srv/kejiyun/var/private",
        proxy_params="/etc/nginx/snippets/kejiyun-proxy.conf",
        stapling=True,
    )
    private = site.split("location /_private/ {", 1)[1].split("}", 1)[0]
    assert "internal;" in private and "alias /srv/kejiyun/var/private/;" in private
    proxy = (prod_stack.DEPLOY / "nginx" / "kejiyun-proxy.conf").read_text()
    assert "proxy_set_header X-Real-IP $remote_addr;" in proxy
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in proxy
    assert "proxy_set_header Host $http_host;" in proxy
