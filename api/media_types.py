"""What a request's `Content-Type` and `Accept` headers mean: pure functions, shared by the input
guard, the routes' protocol checks and the checkpoint's lean route, so that all three read a
header the same way."""

from __future__ import annotations

from functools import lru_cache

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
FORM = "application/x-www-form-urlencoded"

# (type, subtype, quality) of each media range an Accept header lists
_Range = tuple[str, str, float]


def media_type(content_type: str | None) -> str:
    """`type/subtype` in lower case, without parameters; empty when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    """FastAPI's own rule for a body it parses as JSON: `application/json` or
    `application/*+json`. Anything else (no Content-Type included: a browser form can send
    that across origins) reaches a JSON route's validation as bytes."""
    main, _, subtype = media_type(content_type).partition("/")
    return main == "application" and (subtype == "json" or subtype.endswith("+json"))


def accepts(accept: str | None, offered: tuple[str, ...]) -> bool:
    """Whether an Accept header admits one of the offered media types (RFC 9110 §12.5.1): each
    offered type takes the quality of the most specific range that matches it, and `q=0`
    refuses. A missing or unparsable header admits anything, as `*/*` would."""
    if accept is None or accept == "*/*":  # what most clients send: no parsing
        return True
    return _accepts(accept, offered)


# Callers send few distinct Accept values: parse each once. Bounded, since the values are the
# caller's to choose.
@lru_cache(maxsize=256)
def _accepts(accept: str, offered: tuple[str, ...]) -> bool:
    ranges = _ranges(accept)
    if ranges is None:
        return True
    return any(_quality(ranges, offer) > 0 for offer in offered)


def _ranges(accept: str) -> tuple[_Range, ...] | None:
    """The header's media ranges, or None when it does not parse (or lists none)."""
    ranges: list[_Range] = []
    for element in accept.split(","):
        media, *parameters = element.split(";")
        main, slash, subtype = media.strip().lower().partition("/")
        if not (main or slash or subtype):
            continue  # the list syntax allows empty elements
        if not (slash and main and subtype) or "/" in subtype or (main == "*" != subtype):
            return None
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    return None
                if not 0.0 <= quality <= 1.0:  # NaN fails this too
                    return None
        ranges.append((main, subtype, quality))
    return tuple(ranges) or None


def _quality(ranges: tuple[_Range, ...], offer: str) -> float:
    main, _, subtype = offer.partition("/")
    best, quality = -1, 0.0
    for range_main, range_subtype, range_quality in ranges:
        if range_main == "*":
            specificity = 0
        elif range_main != main:
            continue
        elif range_subtype == "*":
            specificity = 1
        elif range_subtype == subtype:
            specificity = 2
        else:
            continue
        if specificity > best:
            best, quality = specificity, range_quality
        elif specificity == best:
            quality = max(quality, range_quality)
    return quality
