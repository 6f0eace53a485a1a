"""Accept-Language negotiation, the message catalogue's completeness, and the webhook URL
guard against private and loopback addresses."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from auth.policy import CLAIMABLE_STATUSES
from changes import url_guard
from changes.pinned_client import PinnedClients
from changes.url_guard import UrlRefusedError, check_addresses, split
from encounters.claims import status_text
from i18n import LANGUAGES, negotiate, text
from i18n.catalogue import keys
from schemas.encounters import ClaimedStatus


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("fa-AF", "fa-AF"),
        ("prs", "fa-AF"),
        ("ps-AF,fa;q=0.8", "ps-AF"),
        ("de, fa;q=0.5, ps;q=0.9", "ps-AF"),
        ("ur-PK", "ur"),
        ("de-DE", "en"),
        ("fa;q=0, en", "en"),
    ],
)
def test_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_every_message_exists_in_every_language() -> None:
    for key in keys():
        for language in LANGUAGES:
            assert text(key, language)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(value)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.5", "169.254.169.254", "::1", "fc00::1", "0.0.0.0"],
)
def test_private_and_loopback_addresses_are_refused(address: str) -> None:
    with pytest.raises(UrlRefusedError):
        check_addresses("https", [_ip(address)], [])


def test_mapped_ipv4_loopback_is_refused() -> None:
    with pytest.raises(UrlRefusedError):
        check_addresses("https", [_ip("::ffff:127.0.0.1")], [])


def test_allow_list_admits_a_private_network_even_over_http() -> None:
    networks = [ipaddress.ip_network("127.0.0.0/8")]
    check_addresses("http", [_ip("127.0.0.1")], networks)
    with pytest.raises(UrlRefusedError):
        check_addresses("http", [_ip("10.0.0.1")], networks)


def test_public_addresses_need_https() -> None:
    check_addresses("https", [_ip("8.8.8.8")], [])
    with pytest.raises(UrlRefusedError):
        check_addresses("http", [_ip("8.8.8.8")], [])


@pytest.mark.parametrize(
    "url", ["ftp://x.org/", "https://user:pw@x.org/", "/relative", "https://x.org:99999/"]
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlRefusedError):
        split(url)


async def test_pinned_clients_send_to_the_checked_address_under_the_hosts_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    addresses = {"a.example": "93.184.216.34", "b.example": "93.184.216.34"}

    async def resolve(host: str, port: int) -> list[url_guard.IpAddress]:
        return [ipaddress.ip_address(addresses[host])]

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(url_guard, "resolve", resolve)
    clients = PinnedClients(1.0, httpx.MockTransport(answer))
    for url in ("https://a.example/hooks", "https://b.example:8443/hooks"):
        sent = await clients.post(url, [], content=b"{}", headers={})
        assert sent.status_code == 204
    a, b = seen
    assert (a.url.host, a.url.port, a.headers["Host"]) == ("93.184.216.34", None, "a.example")
    assert a.extensions["sni_hostname"] == "a.example"
    assert (b.url.port, b.headers["Host"], b.extensions["sni_hostname"]) == (
        8443,
        "b.example:8443",
        "b.example",
    )
    # one client per name: a connection checked for one name never carries another's request
    assert len(clients._clients) == 2
    addresses["a.example"] = "10.0.0.7"
    with pytest.raises(UrlRefusedError):
        await clients.post("https://a.example/hooks", [], content=b"", headers={})
    assert len(seen) == 2
    await clients.aclose()


def test_every_claimable_status_is_some_agencys_and_reads_in_every_language() -> None:
    claimable = set().union(*CLAIMABLE_STATUSES.values())
    assert claimable == set(ClaimedStatus.__args__)  # type: ignore[attr-defined]
    for status in claimable:
        texts = {status_text(status, language) for language in LANGUAGES}
        assert len(texts) == len(LANGUAGES), status  # its own wording in each language
