"""The response language a caller asked for with `Accept-Language` (en, fa-AF, ps-AF, ur)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from i18n import negotiate


def language_of(
    accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
) -> str:
    return negotiate(accept_language)


LanguageDep = Annotated[str, Depends(language_of)]
