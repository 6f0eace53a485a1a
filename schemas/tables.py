"""Imports every table model so `SQLModel.metadata` is complete for Alembic and tests."""

from schemas.audit import AuditDisclosure, AuditEvent
from schemas.identity import Agency, OAuthClient, RevokedToken, SigningKey, UsedClientAssertion
from schemas.lists import ExchangeList, SharingAgreement
from schemas.records import ImportBatch, Record, RecordDocument, RecordVersion
from schemas.transparency import (
    TlogCheckpoint,
    TlogCosignature,
    TlogLeaf,
    TlogLogKey,
    TlogNode,
    TlogPending,
    TlogWitness,
)

__all__ = [
    "Agency",
    "AuditDisclosure",
    "AuditEvent",
    "ExchangeList",
    "ImportBatch",
    "OAuthClient",
    "Record",
    "RecordDocument",
    "RecordVersion",
    "RevokedToken",
    "SharingAgreement",
    "SigningKey",
    "TlogCheckpoint",
    "TlogCosignature",
    "TlogLeaf",
    "TlogLogKey",
    "TlogNode",
    "TlogPending",
    "TlogWitness",
    "UsedClientAssertion",
]
