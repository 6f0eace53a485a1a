"""The report's chart: a run's links by match probability, each band's bar split by what was
decided (accepted, confirmed, waiting for review, rejected), as inline SVG with its axes, a
legend and each bar's figures as a tooltip. Counts only."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# decision -> (label, colour); blue and orange tell apart for the colour-blind, and every bar
# also carries its figures in words (tooltip, and the table under the chart)
DECISIONS = {
    "accepted": ("accepted automatically", "#1f5f8b"),
    "confirmed": ("confirmed by a person", "#0b2e4a"),
    "review": ("waiting for review", "#e8871e"),
    "rejected": ("rejected by a person", "#9a9a9a"),
}
PROBABILITY_BANDS = 20  # bars of the chart, each 0.05 of probability wide
_WIDTH, _HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 40, 44


@dataclass(frozen=True, slots=True)
class Bands:
    """Links per probability band and decision: counts[decision][band], bands of equal width."""

    bins: int
    counts: dict[str, list[int]]

    @classmethod
    def of(cls, rows: list[tuple[int, str, int]], bins: int) -> Bands:
        counts = {decision: [0] * bins for decision in DECISIONS}
        for band, decision, links in rows:
            counts.setdefault(decision, [0] * bins)[band] += links
        return cls(bins, counts)

    def total(self, band: int) -> int:
        return sum(per_band[band] for per_band in self.counts.values())

    def decided(self, decision: str) -> int:
        return sum(self.counts.get(decision, []))

    def label(self, band: int) -> str:
        return f"{band / self.bins:.2f} to {(band + 1) / self.bins:.2f}"

    def words(self, band: int) -> str:
        """`120 accepted automatically, 30 waiting for review` (decisions with links only)."""
        parts = [
            f"{self.counts[d][band]:,} {DECISIONS[d][0] if d in DECISIONS else d}"
            for d in self.counts
            if self.counts[d][band]
        ]
        return ", ".join(parts) or "no links"


def _scale_top(highest: int) -> int:
    """A round number at or above the highest bar (1, 2 or 5 times a power of ten)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= highest:
                return step * factor
        step *= 10


def stacked_histogram_svg(bands: Bands) -> str:
    highest = max((bands.total(b) for b in range(bands.bins)), default=0)
    if highest == 0:
        return "<p>No links.</p>"
    top = _scale_top(highest)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    bar_w = plot_w / bands.bins
    parts = [_axes(top, plot_w, plot_h), _legend()]
    for band in range(bands.bins):
        x, base = _LEFT + band * bar_w, float(_TOP + plot_h)
        pieces = []
        for decision, (_, colour) in DECISIONS.items():
            count = bands.counts[decision][band]
            if not count:
                continue
            height = plot_h * count / top
            base -= height
            pieces.append(
                f'<rect x="{x + 1:.1f}" y="{base:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{height:.1f}" fill="{colour}"/>'
            )
        if pieces:
            tooltip = escape(f"{bands.label(band)}: {bands.words(band)}")
            parts.append(f"<g><title>{tooltip}</title>{''.join(pieces)}</g>")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="links by match probability, split by decision">{"".join(parts)}</svg>'
    )


def _axes(top: int, plot_w: float, plot_h: float) -> str:
    lines = []
    for fraction in (0.0, 0.5, 1.0):
        y = _TOP + plot_h * (1 - fraction)
        lines.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + plot_w}" y2="{y:.1f}" '
            f'stroke="{"#333" if fraction == 0 else "#ddd"}"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_tick(top * fraction)}</text>"
        )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = _LEFT + plot_w * tick
        lines.append(
            f'<text x="{x:.1f}" y="{_TOP + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{tick:g}</text>'
        )
    lines.append(
        f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 6}" font-size="12" '
        'text-anchor="middle">match probability</text>'
        f'<text x="{_LEFT}" y="{_TOP - 26}" font-size="12">links</text>'
    )
    return "".join(lines)


def _tick(value: float) -> str:
    """5,000 or 2.5: a scale of 5 has its middle line at 2.5, not at a rounded 2."""
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def _legend() -> str:
    items, x = [], float(_LEFT)
    for label, colour in DECISIONS.values():
        items.append(
            f'<rect x="{x:.1f}" y="{_TOP - 18}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14:.1f}" y="{_TOP - 9}" font-size="10">{label}</text>'
        )
        x += 14 + 5.6 * len(label) + 12
    return "".join(items)
