"""Operator settings of webhook delivery, from `SANAD_WEBHOOK_*` environment variables."""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANAD_WEBHOOK_", extra="ignore")

    # Networks a subscription URL may point into although they are private or loopback
    # (e.g. a partner system on the mission's own network). Plain http is allowed only there.
    allowed_networks: list[str] = Field(default_factory=list)
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    backoff_jitter: float = Field(default=0.2, ge=0, le=1)
    timeout_seconds: float = Field(default=5.0, gt=0)  # a whole attempt, from lookup to answer
    poll_seconds: float = Field(default=1.0, gt=0)
    linger_seconds: float = Field(default=0.02, ge=0, le=1)
    lease_seconds: float = Field(default=60.0, gt=0)
    concurrency: int = Field(default=16, ge=1, le=256)
    enabled: bool = True

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Self:
        # a lease ending while its attempt runs lets a second attempt start alongside it
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError("lease_seconds must exceed timeout_seconds")
        return self

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(n, strict=False) for n in self.allowed_networks]
