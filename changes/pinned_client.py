"""Webhook requests sent only to addresses the URL guard checked. Each attempt resolves the
host once, checks every address, and connects to one of them; the host's name stays in the
Host header and in TLS (SNI and the certificate check). Resolving again inside the HTTP client
would let a DNS answer that changed since the check (DNS rebinding) send a delivery, with its
signature and personal data, into a private network.

One HTTP client per host: connections are kept alive per address, and a connection whose
certificate was checked for one name must never carry another host's request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from changes.url_guard import IpNetwork, check_url


class PinnedClients:
    """HTTP clients that connect to checked addresses only; close with `aclose`."""

    def __init__(
        self, timeout_seconds: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    async def post(
        self,
        url: str,
        networks: Sequence[IpNetwork],
        *,
        content: bytes,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """POST to `url` at an address its host resolves to now, after checking them all
        (`UrlRefusedError` if one is refused)."""
        checked = await check_url(url, networks)
        asked = httpx.URL(url)
        client = self._clients.get(checked.host)
        if client is None:
            client = httpx.AsyncClient(follow_redirects=False, transport=self._transport)
            self._clients[checked.host] = client
        return await client.post(
            asked.copy_with(host=str(checked.addresses[0])),
            content=content,
            headers={**headers, "Host": asked.netloc.decode("ascii")},
            timeout=self.timeout_seconds,
            extensions={"sni_hostname": asked.raw_host.decode("ascii")},
        )

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
