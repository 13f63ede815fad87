"""Record where an account acted from (`Footprint`): keyed hashes of its network and device.

The device is the browser's long-lived cookie `kjy_device` (set by the reading page and the
registration pages); the network is the client address cut to its /24 (IPv4) or /48 (IPv6),
so accounts made from one office or one phone farm share it while no address is stored."""

from __future__ import annotations

import ipaddress
import re
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kejiyun.accounts.models import Footprint, User
from kejiyun.common.crypto import lookup_hash
from kejiyun.common.ratelimit import client_ip

DEVICE_COOKIE = "kjy_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600
_DEVICE_RE = re.compile(r"^[0-9a-f]{32}$")


def device_id(request: HttpRequest) -> tuple[str, bool]:
    """The browser's long-lived device id, and whether it is new (not sent by the browser)."""
    current = request.COOKIES.get(DEVICE_COOKIE, "")
    if _DEVICE_RE.match(current):
        return current, False
    return uuid.uuid4().hex, True


def device_cookie_set(response: HttpResponse, device: str, new: bool) -> HttpResponse:
    """Give the browser its device id (when it is new); the response, for chaining."""
    if new:
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def network_of(ip: str | None) -> str:
    """The network an address belongs to, as text ("" for none or a malformed one)."""
    if not ip:
        return ""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def footprint_record(request: HttpRequest | None, user: User, kind: str) -> Footprint:
    """Write one footprint of `user` doing `kind` (a Footprint.Kind value) from `request`."""
    current = request.COOKIES.get(DEVICE_COOKIE, "") if request is not None else ""
    device = current if _DEVICE_RE.match(current) else ""
    return Footprint.objects.create(
        user=user,
        kind=kind,
        network=lookup_hash(network_of(client_ip(request)), purpose="footprint-network"),
        device=lookup_hash(device, purpose="footprint-device"),
    )
