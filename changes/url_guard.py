"""Refuse webhook URLs that point into private, loopback, link-local or otherwise non-public
address space (server-side request forgery), unless the operator allow-lists the network.
Checked at subscription and again before every delivery (DNS may have changed); a delivery
connects only to an address that check returned (`changes.pinned_client`)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefusedError(ValueError):
    """The URL may not receive webhooks; the message is safe to show the subscriber."""


def _allowed(address: IpAddress, networks: Sequence[IpNetwork]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def check_addresses(
    scheme: str, addresses: Sequence[IpAddress], networks: Sequence[IpNetwork]
) -> None:
    if not addresses:
        raise UrlRefusedError("the host does not resolve")
    for address in addresses:
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        if _allowed(address, networks):
            continue
        if not address.is_global or address.is_multicast:
            raise UrlRefusedError("the host resolves to a non-public address")
        if scheme != "https":
            raise UrlRefusedError("webhook URLs must use https")


def split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname  # an unclosed "[" is refused only here
        # what the sender will parse: urllib drops tabs and newlines that httpx refuses (with
        # other control characters), which would fail every attempt unrecorded
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise UrlRefusedError("the URL is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not hostname:
        raise UrlRefusedError("an absolute http(s) URL is required")
    if parts.username is not None or parts.password is not None:
        raise UrlRefusedError("credentials in the URL are not allowed; use the signing secret")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UrlRefusedError("the port is invalid") from None
    return scheme, hostname, port


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # UnicodeError: a name IDNA cannot encode (a label > 63)
        raise UrlRefusedError("the host does not resolve") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    """A URL's host and the addresses it resolved to when checked: connect to these only."""

    host: str
    addresses: tuple[IpAddress, ...]


async def check_url(url: str, networks: Sequence[IpNetwork]) -> CheckedUrl:
    scheme, host, port = split(url)
    addresses = await resolve(host, port)
    check_addresses(scheme, addresses, networks)
    return CheckedUrl(host, tuple(addresses))
