"""Version 1 of the exchange API: every router mounted under `/v1`."""

from fastapi import APIRouter

from api.v1 import agreements, audit_log, clients, lists, records, transparency, verifications

router = APIRouter(prefix="/v1")
for module in (lists, records, agreements, verifications, audit_log, transparency, clients):
    router.include_router(module.router)
