"""The world schemathesis fuzzes in: objects of every kind a path names (a UNHCR list, a
completed reconciliation with links, letters, a subscription, witnesses, changes, clients), made
through the live API, and their ids written for `contract.fuzz_hooks`. Without them most
requests to `/v1/lists/{list_id}/…` or `/v1/reconciliations/{id}/…` named objects that do not
exist and ended in a 404 before any handler read their input (schemathesis learns ids from
responses, but no request of its own completes a reconciliation or issues a letter).

Ids come in two pools: `kept`, for requests that read or add to an object, and `spent`, for the
requests that end one (a termination, a revocation, a withdrawal, a disabled client, a deleted
subscription), so that the first client fuzzed does not end the objects the next one reads;
`protected` lists every other object such a request could reach, for the hooks to keep off."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlmodel import Session, select

from auth.clients import register_client
from auth.policy import FIELD_CEILING, SCOPE_CEILING
from database.engine import make_sync_engine
from schemas.changes import WebhookSubscription
from schemas.identity import ClientCreate, OAuthClient
from schemas.letters import ProtectionLetter
from schemas.lists import SharingAgreement
from schemas.records import Record
from schemas.transparency import TlogWitness
from schemas.vocabulary import AgencyKind
from tlog.checkpoint import NoteSigner, SignatureType, cosign_checkpoint

# (demo agency, its kind, the purpose its requests give): the purposes their agreements allow
DATA_AGENCIES = (
    ("us-mission", AgencyKind.US_MISSION, "resettlement-processing"),
    ("unhcr", AgencyKind.UNHCR, "reconciliation"),
    ("gop", AgencyKind.GOP, "protection-verification"),
)
# Webhook deliveries go to a closed loopback port (the server's allow-list admits loopback)
HOOK_URL = "http://127.0.0.1:9/sanad-fuzz"
# UNHCR's registrations of pipeline members of the demo list, and a stranger
UNHCR_CSV = """record_id,given_name,family_name,father_name,dob,dob_calendar,sex,documents,group_id
U1,Mohammad Nabi,Ahmadzay,Abdul Ghafur,1984-03-12,,M,passport:P01234567,PSH-1
U2,Freshta,Ahmadzai,Gul Mohammad,1988-01-01,,F,,PSH-1
U3,Sana,Ahmadzai,Mohammad Nabi,2012,,F,,PSH-1
U4,Abdulrahman,Stanikzai,Nur Ullah,1983,,M,por:PK-0012-3456789,PSH-2
U9,Zarghuna,Barakzai,Sher Ali,1999-07-07,,F,,PSH-9
"""
SPENT_LIST_CSV = "record_id,given_name,father_name,dob,sex\nS1,Gulalai,Sher Ali,1990,F\n"
# Pakistan's own list (a detention), so that its clients have a list to share too
GOP_LIST_CSV = (
    "record_id,given_name,father_name,dob,sex,status\nG1,Abdul Rahman,Nur Ullah,1983,M,detained\n"
)


@dataclass(frozen=True, slots=True)
class Caller:
    """A client of one agency holding every scope its kind may hold."""

    agency_id: str
    client_id: str
    client_secret: str
    purpose: str


@dataclass(slots=True)
class Pools:
    """Ids by path parameter; records as (list id, record id) pairs."""

    ids: dict[str, list[Any]] = field(default_factory=dict)
    records: list[tuple[str, str]] = field(default_factory=list)

    def add(self, parameter: str, value: Any) -> None:
        self.ids.setdefault(parameter, []).append(value)

    def as_json(self) -> dict[str, Any]:
        return {"ids": self.ids, "records": [list(pair) for pair in self.records]}


def register_every_scope_clients(url: str, name: str) -> dict[str, Caller]:
    """A client per data-holding agency of the demo, granted every scope its kind may hold."""
    callers = {}
    with Session(make_sync_engine(url)) as session:
        for agency_id, kind, purpose in DATA_AGENCIES:
            scopes = sorted(scope.value for scope in SCOPE_CEILING[kind])
            client, secret = register_client(
                session, agency_id, ClientCreate(name=name, scopes=scopes)
            )
            assert secret is not None
            callers[agency_id] = Caller(agency_id, client.id, secret, purpose)
        session.commit()
    return callers


class _Api:
    """Requests as one caller; any answer but the expected one stops the build."""

    def __init__(self, http: httpx.Client, caller: Caller) -> None:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(caller.client_id, caller.client_secret),
        )
        token.raise_for_status()
        self.http = http
        self.headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Purpose-Of-Use": caller.purpose,
        }

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def import_csv(self, list_id: str, csv_text: str) -> None:
        headers = {"Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())}
        self.call("POST", f"/v1/lists/{list_id}/imports", 201, content=csv_text, headers=headers)

    def new_list(self, name: str, kind: str, csv_text: str) -> str:
        list_id: str = self.call("POST", "/v1/lists", 201, json={"name": name, "kind": kind})["id"]
        self.import_csv(list_id, csv_text)
        return list_id


def _agreement(list_id: str, recipient: str, fields: list[str], purpose: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "list_id": list_id,
        "recipient_agency_id": recipient,
        "fields": fields,
        "coarsen": {},
        "purposes": [purpose],
        "valid_from": (now - dt.timedelta(hours=1)).isoformat(),
        "valid_until": (now + dt.timedelta(days=30)).isoformat(),
    }


def _completed_run(unhcr: _Api, list_ids: list[str]) -> dict[str, Any]:
    run_id = unhcr.call("POST", "/v1/reconciliations", 202, json={"list_ids": list_ids})["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run: dict[str, Any] = unhcr.call("GET", f"/v1/reconciliations/{run_id}", 200)
        if run["status"] == "completed":
            return run
        if run["status"] == "failed":
            raise RuntimeError(f"reconciliation {run_id} failed: {run}")
        time.sleep(0.2)
    raise RuntimeError(f"reconciliation {run_id} did not finish")


def _witness(caller: _Api, name: str) -> tuple[str, NoteSigner]:
    """A witness registered for the caller's agency: its id, and the key it cosigns with."""
    signer = NoteSigner.generate(name, SignatureType.COSIGNATURE_V1)
    key = {"verifier_key": signer.verifier().verifier_key()}
    witness: dict[str, str] = caller.call("POST", "/v1/audit/witnesses", 201, json=key)
    return witness["id"], signer


def build(base: str, url: str, demo_list_id: str) -> dict[str, Any]:
    """Make the world on the server at `base` (database `url`, holding the demo) and return the
    pools of ids, as JSON-ready data."""
    callers = register_every_scope_clients(url, "fuzz world builder")
    spare = register_every_scope_clients(url, "fuzz world: a client to disable")
    kept, spent = Pools(), Pools()
    with _http(base) as http:
        us, unhcr, gop = (_Api(http, callers[a]) for a, _, _ in DATA_AGENCIES)
        kept.add("list_id", demo_list_id)
        for agency_id, _, _ in DATA_AGENCIES:
            kept.add("agency_id", agency_id)
        kept.records += [(demo_list_id, f"US-{n:04d}") for n in range(1, 9)]
        spent.records += [(demo_list_id, f"US-{n:04d}") for n in range(9, 13)]
        _reconciled(unhcr, demo_list_id, kept)
        _letters_and_agreements(us, demo_list_id, kept, spent)
        _reports(gop, demo_list_id, kept.ids["letter_id"][0])
        gop_list = gop.new_list("Detentions (fuzz world)", "status", GOP_LIST_CSV)
        kept.add("list_id", gop_list)
        kept.records.append((gop_list, "G1"))
        _feeds_and_subscriptions(us, (us, unhcr, gop), kept, spent)
        spent.add("witness_id", _witness(unhcr, "unhcr.example/fuzz-witness-to-revoke")[0])
        for caller in spare.values():
            spent.add("client_id", caller.client_id)
        cosigners = {
            caller: _witness(caller, f"{uuid.uuid4().hex[:8]}.example/fuzz-witness")[1]
            for caller in (us, unhcr, gop)
        }
        latest = us.call("GET", "/v1/audit/checkpoints/latest", 200,
                         headers={"Purpose-Of-Use": "audit"})  # fmt: skip
        kept.add("size", latest["size"])
        cosigned = _cosigned_notes(latest, cosigners)
    return {
        "hook_url": HOOK_URL,
        "kept": kept.as_json(),
        "spent": spent.as_json(),
        "protected": _protected(url, spent).as_json(),
        "cosigned_notes": cosigned,
        "field_ceilings": {
            agency_id: sorted(FIELD_CEILING[kind]) for agency_id, kind, _ in DATA_AGENCIES
        },
    }


def _cosigned_notes(checkpoint: dict[str, Any], cosigners: dict[_Api, NoteSigner]) -> list[str]:
    """The checkpoint's note cosigned by each agency's witness, for the hooks to post to
    `/v1/audit/checkpoints/{size}/cosignatures` (only the caller's own agency's is accepted);
    the first is posted here, so a world whose cosignatures the server refuses is not built."""
    now = int(time.time())
    notes = [
        cosign_checkpoint(checkpoint["note"].encode(), signer, now).decode()
        for signer in cosigners.values()
    ]
    first = next(iter(cosigners))
    first.call("POST", f"/v1/audit/checkpoints/{checkpoint['size']}/cosignatures", 201,
               json={"note": notes[0]}, headers={"Purpose-Of-Use": "audit"})  # fmt: skip
    return notes


def _reconciled(unhcr: _Api, demo_list_id: str, kept: Pools) -> None:
    """UNHCR's list of some demo members, shared back, and a completed run with its links."""
    unhcr_list = unhcr.new_list("UNHCR registrations (fuzz world)", "registration", UNHCR_CSV)
    kept.add("list_id", unhcr_list)
    kept.records += [(unhcr_list, f"U{n}") for n in (1, 2, 3, 4, 9)]
    shared = _agreement(unhcr_list, "us-mission", ["given_name", "dob"], "reconciliation")
    unhcr.call("POST", "/v1/agreements", 201, json=shared)
    run = _completed_run(unhcr, [demo_list_id, unhcr_list])
    kept.add("reconciliation_id", run["id"])
    for link in unhcr.call("GET", f"/v1/reconciliations/{run['id']}/links", 200)["items"]:
        kept.add("link_id", link["link_id"])


def _letters_and_agreements(us: _Api, demo_list_id: str, kept: Pools, spent: Pools) -> None:
    for pool, record_id in ((kept, "US-0001"), (kept, "US-0003"), (spent, "US-0005")):
        letter = {"list_id": demo_list_id, "record_id": record_id}
        pool.add("letter_id", us.call("POST", "/v1/letters", 201, json=letter)["letter_id"])
    spent_list = us.new_list("A list to end agreements on (fuzz world)", "pipeline",
                             SPENT_LIST_CSV)  # fmt: skip
    for recipient in ("unhcr", "gop"):
        body = _agreement(spent_list, recipient, ["given_name"], "protection-verification")
        spent.add("agreement_id", us.call("POST", "/v1/agreements", 201, json=body)["id"])


def _reports(gop: _Api, demo_list_id: str, letter_id: str) -> None:
    """A detention by letter and a status claim, so that the status view has something."""
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    event = {"subject": {"letter_id": letter_id}, "event": "detained", "occurred_at": at,
             "place": {"province": "Sindh", "district": "Karachi East"}}  # fmt: skip
    gop.call("POST", "/v1/encounters", 201, json=event)
    claim = {"status": "detained", "effective_at": at}
    gop.call("POST", f"/v1/lists/{demo_list_id}/records/US-0002/status-claims", 201,
             json=claim)  # fmt: skip


def _feeds_and_subscriptions(
    us: _Api, readers: tuple[_Api, ...], kept: Pools, spent: Pools
) -> None:
    for pool in (kept, spent):
        body = {"url": HOOK_URL, "event_types": ["record.created"], "since": "0"}
        pool.add("subscription_id", us.call("POST", "/v1/subscriptions", 201, json=body)["id"])
    for reader in readers:  # a recipient acknowledges what the owner cannot
        feed = reader.call("GET", "/v1/changes", 200, params={"since": "0", "limit": 10})
        for change in feed["items"]:
            kept.add("change_id", change["id"])


def _protected(url: str, spent: Pools) -> Pools:
    """Every object an ending request could reach that is not spent: the demo's and the
    world's agreements, clients (the fuzzed ones too), letters, witnesses, subscriptions and
    records. schemathesis learns ids from responses (`GET /v1/clients` lists the caller's own),
    and the hooks keep its ending requests off these."""
    owners = {
        "agreement_id": SharingAgreement.id,
        "client_id": OAuthClient.id,
        "letter_id": ProtectionLetter.id,
        "witness_id": TlogWitness.id,
        "subscription_id": WebhookSubscription.id,
    }
    protected = Pools()
    with Session(make_sync_engine(url)) as session:
        for parameter, column in owners.items():
            ending = set(spent.ids.get(parameter, []))
            for value in session.exec(select(column)):
                if value not in ending:
                    protected.add(parameter, value)
        records = session.exec(select(Record.list_id, Record.record_key))
        protected.records = [pair for pair in records if pair not in set(spent.records)]
    return protected


@contextmanager
def _http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60) as http:
        yield http
