"""Digits as typed on Dari/Pashto (Extended Arabic-Indic) and Arabic (Arabic-Indic) keyboards."""

_DIGIT_ZEROS = (0x0660, 0x06F0)  # ARABIC-INDIC and EXTENDED ARABIC-INDIC DIGIT ZERO
_TO_ASCII = str.maketrans(
    {chr(zero + value): str(value) for zero in _DIGIT_ZEROS for value in range(10)}
)


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic and Extended Arabic-Indic digits by ASCII ones."""
    return text.translate(_TO_ASCII)
