"""Bar charts as inline SVG for the metrics page: no script, no CDN, nothing the strict CSP
would refuse (presentation attributes, never ``style``), each chart beside a table of the
same numbers for screen readers and for a page without images."""

from __future__ import annotations

from typing import Any

__all__ = ["bars", "duration"]

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 180, 16, 28, 56


def duration(seconds: float) -> str:
    """``seconds`` as a person reads a span: ``4.2 s``, ``42 s``, ``3.5 h``, ``2.0 d``."""
    for size, name in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {name}"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def _label(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return duration(value)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bars(points: list[tuple[str, float | None]], unit: str = "") -> dict[str, Any]:
    """The geometry of a bar chart of ``points`` (label, value; None: nothing measured in
    that period, drawn as no bar and said in the bar's title): what ``metrics.html`` draws."""
    known = [v for _, v in points if v is not None]
    top = max(known, default=0.0) or 1.0
    inner = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT) / max(len(points), 1)
    out = []
    for k, (label, value) in enumerate(points):
        height = 0.0 if value is None else inner * value / top
        out.append({"x": round(LEFT + k * step + step * 0.15, 1), "width": round(step * 0.7, 1),
                    "y": round(TOP + inner - height, 1), "height": round(height, 1),
                    "label": label, "value": "not measured" if value is None else
                    _label(value, unit), "tick": k % max(1, len(points) // 6) == 0,
                    "centre": round(LEFT + k * step + step / 2, 1)})
    return {"width": WIDTH, "height": HEIGHT, "baseline": TOP + inner, "left": LEFT,
            "top": TOP, "max": _label(top, unit) if known else "0", "bars": out,
            "empty": not known}
