"""Render a letter as one A4 page: the holder's details, the QR code holding the signed
credential, and the trilingual wording. Arabic script is shaped by HarfBuzz (fpdf2 with
uharfbuzz) and laid out right to left; fonts come from Debian's fonts-noto-core."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import segno
from fpdf import FPDF

from letters.credential import LetterClaims, parse
from letters.wording import LABELS, WORDINGS

FONT_DIRS = (
    os.environ.get("SANAD_LETTER_FONT_DIR", ""),
    "/usr/share/fonts/truetype/noto",
)
_FONTS = {
    ("latin", ""): "NotoSans-Regular.ttf",
    ("latin", "B"): "NotoSans-Bold.ttf",
    ("arabic", ""): "NotoNaskhArabic-Regular.ttf",
    ("arabic", "B"): "NotoNaskhArabic-Bold.ttf",
}
QR_SIZE_MM = 62.0
_MARGIN = 15.0


class FontsMissingError(RuntimeError):
    """The Noto fonts are not installed (Debian: apt-get install fonts-noto-core)."""


def _font_path(name: str) -> Path:
    for directory in FONT_DIRS:
        if directory and (Path(directory) / name).is_file():
            return Path(directory) / name
    raise FontsMissingError(
        f"{name} not found; install fonts-noto-core or set SANAD_LETTER_FONT_DIR"
    )


def _new_document() -> FPDF:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=False)
    for (family, style), filename in _FONTS.items():
        pdf.add_font(family, style, str(_font_path(filename)))
    # a Latin run inside Arabic text (or the reverse) falls back to the other font
    pdf.set_fallback_fonts(["arabic", "latin"])
    pdf.set_text_shaping(True)
    pdf.set_title("Protection letter")
    pdf.set_creator("Sanad")
    return pdf


def _draw_qr(pdf: FPDF, content: str, x: float, y: float) -> None:
    """The QR code as vector rectangles (one per run of dark modules), crisp at any zoom."""
    code = segno.make(content, error="m", boost_error=False)
    matrix = code.matrix
    quiet = 4
    module = QR_SIZE_MM / (len(matrix) + 2 * quiet)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        start = None
        for col in range(len(row) + 1):
            dark = col < len(row) and bool(row[col])
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                pdf.rect(
                    x + (quiet + start) * module,
                    y + (quiet + row_index) * module,
                    (col - start) * module,
                    module,
                    style="F",
                )
                start = None


def _date(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")


def _label(pdf: FPDF, label: str, width: float) -> None:
    pdf.set_font("latin", "", 8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(width, 4.5, label, new_x="LMARGIN", new_y="NEXT")


def _field(pdf: FPDF, label: str, value: str | None, width: float) -> None:
    if not value:
        return
    _label(pdf, label, width)
    pdf.set_font("latin", "B", 12)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(width, 6.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _holder(pdf: FPDF, claims: LetterClaims, width: float) -> None:
    year = None
    if claims.birth_year is not None:
        year = f"{claims.birth_year}" + (" (Solar Hijri)" if claims.birth_calendar else "")
    _field(pdf, LABELS["name"], claims.name, width)
    _field(pdf, LABELS["name_native"], claims.name_native, width)
    _field(pdf, LABELS["father"], claims.father_name, width)
    _field(pdf, LABELS["birth_year"], year, width)
    if claims.members:
        _label(pdf, LABELS["members"], width)
        pdf.set_font("latin", "", 11)
        pdf.set_text_color(0, 0, 0)
        for member in claims.members:  # one line each: mixed scripts stay in order
            line = member.name
            if member.name_native:
                line += f"  ·\u200e  {member.name_native}"
            pdf.multi_cell(width, 6, line, new_x="LMARGIN", new_y="NEXT")


def _wording(pdf: FPDF) -> None:
    width = pdf.w - 2 * _MARGIN
    for wording in WORDINGS:
        family = "arabic" if wording.rtl else "latin"
        align = "R" if wording.rtl else "L"
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(width, 6, wording.heading, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9.5 if wording.rtl else 9)
        for paragraph in (wording.means, wording.does_not_mean, wording.verify):
            pdf.multi_cell(width, 5.2, paragraph, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5)


def render_letter_pdf(credential: str, mission_name: str) -> bytes:
    """The letter for a credential Sanad issued (its claims are read back, not re-verified)."""
    claims = parse(credential).claims
    pdf = _new_document()
    pdf.add_page()
    pdf.set_font("latin", "B", 15)
    pdf.cell(0, 8, mission_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("arabic", "B", 13)
    pdf.cell(
        0,
        8,
        "Protection letter ·\u200e نامه حمایتی ·\u200e د ملاتړ لیک",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    top = pdf.get_y()
    qr_x = pdf.w - _MARGIN - QR_SIZE_MM
    _draw_qr(pdf, credential, qr_x, top)
    left_width = qr_x - _MARGIN - 4
    _field(pdf, LABELS["letter"], claims.letter_id, left_width)
    dates = f"{_date(claims.issued_at)}  to  {_date(claims.expires_at)}"
    _field(pdf, f"{LABELS['issued']} / {LABELS['expires']}", dates, left_width)
    _holder(pdf, claims, left_width)
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE_MM) + 3)
    pdf.set_draw_color(150, 150, 150)
    pdf.line(_MARGIN, pdf.get_y(), pdf.w - _MARGIN, pdf.get_y())
    pdf.ln(3)
    _wording(pdf)
    pdf.set_y(pdf.h - _MARGIN - 5)
    pdf.set_font("latin", "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 4, f"{claims.letter_id} · signing key {parse(credential).kid} · {claims.issuer}")
    return bytes(pdf.output())
