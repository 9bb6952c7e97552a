"""Chart geometry for the pages' inline SVG: OneVoice draws its own charts (no library, no CDN).

Functions return numbers and labels only; the template writes the SVG, escaping every label, and puts the
same figures in a table beside each chart for screen readers and for copying.
"""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 640, 180, 28
LABEL_PX = 6  # a character's width at the charts' 10 px text, rounded up


def bars(items: list[tuple[str, float, str]], width: int = WIDTH, height: int = HEIGHT) -> dict:
    """Vertical bars: (label, value, link) each, scaled to the largest value."""
    top = max((v for _, v, _ in items), default=0) or 1
    n = max(1, len(items))
    slot = (width - PAD) / n
    # Labels under every k-th bar, k such that the longest fits in k slots (at ~6 px a character at the
    # chart's 10 px): "partnership" and "press_inquiry" under neighbouring bars ran into each other.
    wide = max((len(str(label)) for label, _, _ in items), default=1) * LABEL_PX + 6
    step = max(1, -(-wide // int(slot)) if slot >= 1 else n)
    out = []
    for i, (label, value, link) in enumerate(items):
        h = (height - PAD) * (value / top)
        half = len(str(label)) * LABEL_PX / 2
        centre = PAD + i * slot + slot / 2
        out.append({"x": round(PAD + i * slot + slot * 0.15, 1), "w": round(max(1.0, slot * 0.7), 1),
                    "y": round(height - PAD - h, 1), "h": round(h, 1), "label": label, "value": value, "link": link,
                    "tick": i % step == 0,
                    # centred under its bar, kept inside the chart (the last day's label was cut at the edge)
                    "tx": round(min(max(centre, half), width - half), 1)})
    return {"width": width, "height": height, "bars": out, "top": top, "baseline": height - PAD}


def line(points: list[tuple[str, float | None, str]], low: float = -1.0, high: float = 1.0,
         width: int = WIDTH, height: int = HEIGHT) -> dict:
    """A line over days between low and high (a missing value breaks the line); each point links."""
    n = max(1, len(points) - 1)
    span = (high - low) or 1
    dots, path, pen_down = [], [], False
    for i, (label, value, link) in enumerate(points):
        if value is None:
            pen_down = False
            continue
        x = PAD + (width - PAD * 1.5) * i / n
        y = (height - PAD) - (height - PAD * 1.5) * (value - low) / span
        path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
        dots.append({"x": round(x, 1), "y": round(y, 1), "label": label, "value": value, "link": link})
    zero = (height - PAD) - (height - PAD * 1.5) * (0 - low) / span
    return {"width": width, "height": height, "path": " ".join(path), "dots": dots, "zero": round(zero, 1),
            "low": low, "high": high}
