"""Pick the catalogue language an `Accept-Language` header (RFC 9110 §12.5.4) prefers most."""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"
# primary subtags (and ISO 639-3 codes) each catalogue language answers to: Dari is written
# `fa-AF` or `prs`, Pashto `ps` / `pus` / `pbt`, Urdu `ur` / `urd`.
_ALIASES = {
    "en": "en",
    "fa": "fa-AF",
    "prs": "fa-AF",
    "ps": "ps-AF",
    "pus": "ps-AF",
    "pbt": "ps-AF",
    "ur": "ur",
    "urd": "ur",
}


def _weight(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def negotiate(header: str | None) -> str:
    """The best-matching catalogue language; English when nothing matches."""
    if not header:
        return DEFAULT_LANGUAGE
    best, best_weight = DEFAULT_LANGUAGE, 0.0
    for position, item in enumerate(header[:500].split(",")):
        tag, *params = item.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        language = _ALIASES.get(primary)
        weight = _weight(params) - position * 1e-6  # earlier wins among equal weights
        if language is not None and weight > best_weight:
            best, best_weight = language, weight
    return best
