"""Imports every table model so `SQLModel.metadata` is complete for Alembic and tests."""

from schemas.audit import AuditDisclosure, AuditEvent
from schemas.changes import (
    ChangeAcknowledgement,
    ChangeCounter,
    ChangeEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from schemas.encounters import EncounterLink, EncounterReport, StatusClaim
from schemas.identity import Agency, OAuthClient, RevokedToken, SigningKey, UsedClientAssertion
from schemas.letters import LetterSigningKey, ProtectionLetter, ProtectionLetterMember
from schemas.lists import ExchangeList, SharingAgreement
from schemas.reconciliation import LinkReview, Reconciliation, ReconciliationLink
from schemas.records import ImportBatch, Record, RecordDocument, RecordVersion
from schemas.transparency import (
    TlogCheckpoint,
    TlogCosignature,
    TlogLeaf,
    TlogLogKey,
    TlogNode,
    TlogPending,
    TlogWitness,
    TlogWitnessRevocation,
)

__all__ = [
    "Agency",
    "AuditDisclosure",
    "AuditEvent",
    "ChangeAcknowledgement",
    "ChangeCounter",
    "ChangeEvent",
    "EncounterLink",
    "EncounterReport",
    "ExchangeList",
    "ImportBatch",
    "LetterSigningKey",
    "LinkReview",
    "OAuthClient",
    "ProtectionLetter",
    "ProtectionLetterMember",
    "Reconciliation",
    "ReconciliationLink",
    "Record",
    "RecordDocument",
    "RecordVersion",
    "RevokedToken",
    "SharingAgreement",
    "SigningKey",
    "StatusClaim",
    "TlogCheckpoint",
    "TlogCosignature",
    "TlogLeaf",
    "TlogLogKey",
    "TlogNode",
    "TlogPending",
    "TlogWitness",
    "TlogWitnessRevocation",
    "UsedClientAssertion",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
