"""Record where an account acted from (`Footprint`): keyed hashes of its network and device.

The device is the browser's long-lived cookie `kjy_device` (set by the reading page and the
registration pages); the network is the client address cut to its /24 (IPv4) or /48 (IPv6),
so accounts made from one office or one phone farm share it while no address is stored."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from kejiyun.accounts.models import Footprint, User
from kejiyun.common.crypto import lookup_hash
from kejiyun.common.ratelimit import client_ip

DEVICE_COOKIE = "kjy_device"


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
    device = request.COOKIES.get(DEVICE_COOKIE, "")[:64] if request is not None else ""
    return Footprint.objects.create(
        user=user,
        kind=kind,
        network=lookup_hash(network_of(client_ip(request)), purpose="footprint-network"),
        device=lookup_hash(device, purpose="footprint-device"),
    )
