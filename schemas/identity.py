"""Tables of agencies, OAuth clients, signing keys, revoked tokens and used client assertions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict
from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from schemas.types import PortableJSON, UtcDateTime, utcnow
from schemas.vocabulary import AgencyKind, ClientKind


class Agency(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: AgencyKind = Field(max_length=32)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class OAuthClientBase(SQLModel):
    name: str = Field(max_length=200)
    kind: ClientKind = Field(default=ClientKind.SYSTEM, max_length=16)
    person_name: str | None = Field(default=None, max_length=200)
    scopes: str = Field(max_length=1000)
    auth_method: str = Field(default="client_secret_basic", max_length=32)
    token_lifetime_seconds: int = 900


class OAuthClient(OAuthClientBase, table=True):
    __tablename__ = "oauth_client"

    id: str = Field(primary_key=True, max_length=64)
    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    secret_hash: str | None = Field(default=None, max_length=200)
    jwks: dict[str, object] | None = Field(default=None, sa_column=Column(PortableJSON))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    created_by_client_id: str | None = Field(default=None, max_length=64)
    disabled_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_by_client_id: str | None = Field(default=None, max_length=64)


class ClientCreate(SQLModel):
    """An agency admin registers a partner system or a named liaison in its own agency."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=200)
    kind: ClientKind = ClientKind.SYSTEM
    person_name: str | None = Field(default=None, min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1)
    auth_method: Literal["client_secret_basic", "private_key_jwt"] = "client_secret_basic"
    jwks: dict[str, object] | None = None
    token_lifetime_seconds: int | None = Field(default=None, gt=0, le=900)


class ClientPublic(SQLModel):
    id: str
    agency_id: str
    name: str
    kind: ClientKind
    person_name: str | None
    scopes: list[str]
    auth_method: str
    token_lifetime_seconds: int
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    created_by_client_id: str | None = None  # None: made by an operator (`sanad client create`)
    disabled_by_client_id: str | None = None


class ClientCreated(ClientPublic):
    """Returned once at registration: the only time the secret is ever shown."""

    client_secret: str | None


class SigningKey(SQLModel, table=True):
    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    alg: str = Field(max_length=16)
    private_pem: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, object] = Field(sa_column=Column(PortableJSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    retired_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class RevokedToken(SQLModel, table=True):
    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=64)
    expires_at: dt.datetime = Field(sa_type=UtcDateTime)
    revoked_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class UsedClientAssertion(SQLModel, table=True):
    """`jti`s of RFC 7523 client assertions already accepted, so a replay is refused."""

    __tablename__ = "used_client_assertion"

    client_id: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=200)
    expires_at: dt.datetime = Field(sa_type=UtcDateTime)
