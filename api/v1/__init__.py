"""Version 1 of the exchange API: every router mounted under `/v1`."""

from fastapi import APIRouter

from api.v1 import (
    agreements,
    audit_log,
    changes,
    clients,
    encounters,
    letters,
    lists,
    reconciliations,
    records,
    subscriptions,
    transparency,
    verifications,
)

router = APIRouter(prefix="/v1")
for module in (lists, records, agreements, verifications, audit_log, transparency, clients):
    router.include_router(module.router)
for module in (letters, encounters, changes, subscriptions):
    router.include_router(module.router)
router.include_router(reconciliations.router)
