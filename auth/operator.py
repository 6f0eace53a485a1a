"""Operator actions run on the server host (the `sanad` CLI): agency checks, client listings and
secret resets. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from auth import repository
from auth.clients import issue_secret
from problems import ProblemError
from schemas.identity import OAuthClient


def agency_exists(session: Session, agency_id: str) -> bool:
    return repository.get_agency(session, agency_id) is not None


def clients_of_agency(session: Session, agency_id: str) -> Sequence[OAuthClient]:
    return repository.clients_of_agency(session, agency_id)


def reset_client_secret(session: Session, client_id: str) -> str:
    """A new secret for a `client_secret_basic` client; the old one stops working at once."""
    client = repository.get_client(session, client_id)
    if client is None or client.auth_method != "client_secret_basic":
        raise ProblemError("not-found", "no client with a secret by that id")
    issued = issue_secret()
    client.secret_hash = issued.secret_hash
    session.add(client)
    session.flush()
    return issued.secret
