"""Version 1 of the exchange API: every router mounted under `/v1`."""

from fastapi import FastAPI

from api.protocol import ProtocolRoute
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

# Routes are matched in order, one by one: the checkpoint route, the hottest, goes first.
V1_MODULES = (
    verifications,
    lists,
    records,
    agreements,
    audit_log,
    transparency,
    clients,
    letters,
    encounters,
    changes,
    subscriptions,
    reconciliations,
)


def include_v1(app: FastAPI) -> None:
    """Mount each v1 router directly on the app: every level of router nesting costs a match
    step on every request in FastAPI ≥ 0.16x. The checkpoint route, declared with its full
    path, goes in as a route of the app itself, first: no included-router branch to pass, and
    its lean ASGI app is not rewrapped (`api/lean_route.py`)."""
    for module in V1_MODULES:
        for route in module.router.routes:
            # the protocol checks (api/protocol.py) are what keep a mistyped filter from
            # widening a search: a route without them is a bug, refused at startup
            if not isinstance(route, ProtocolRoute):
                raise TypeError(f"{module.__name__}: route {route!r} is not a ProtocolRoute")
    app.router.routes[0:0] = verifications.router.routes
    for module in V1_MODULES:
        if module is not verifications:
            app.include_router(module.router, prefix="/v1")
