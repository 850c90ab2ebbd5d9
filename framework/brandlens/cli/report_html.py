"""The report as one self-contained HTML file: inline CSS, inline SVG, no script, no fetch.

Every chart kind of :mod:`brandlens.analysis.charts` is drawn here as hand-written
SVG (hover details through ``<title>`` elements and table cell titles), so the file
opens offline in any browser, prints to PDF and reads at phone width. Every text
from the data is escaped. Same report, same bytes.
"""

from __future__ import annotations

import math
from html import escape
from statistics import median
from typing import TYPE_CHECKING

from brandlens.cli.render import (
    SMALL_BASE,
    change_text,
    percent,
    small_base_note,
    unmatched_text,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from brandlens.analysis.charts import Chart, ReportSection
    from brandlens.analysis.report import Report

W = 480  # the viewBox width of every chart; SVGs scale to their box
FONT = 13
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#d62728",
)
POSITIVE, NEGATIVE, TOTAL = "#59a14f", "#e15759", "#4e79a7"

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --rule: #d9dde5; --bg: #ffffff; --tint: #f4f6fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif; color: var(--ink);
  background: var(--bg); }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 20px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 28px 0 8px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 1rem; margin: 0 0 2px; }
p { margin: 4px 0; }
.muted, .def, .meta { color: var(--muted); }
.meta, .def { font-size: 0.82rem; overflow-wrap: anywhere; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0; list-style: none; }
nav a { color: #1f5fa8; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr));
  gap: 6px 18px; margin: 10px 0; }
.facts div { background: var(--tint); padding: 6px 10px; border-radius: 4px; }
.facts b { display: block; font-size: 0.78rem; color: var(--muted); font-weight: 600; }
.table-wrap { overflow-x: auto; margin: 8px 0 12px; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 8px; text-align: right;
  white-space: nowrap; }
th:first-child, td:first-child { text-align: left; position: sticky; left: 0;
  background: var(--bg); }
thead th { background: var(--tint); position: sticky; top: 0; }
td.best { font-weight: 700; background: #e7f3e4; }
td .rank { color: var(--muted); font-size: 0.75rem; margin-left: 3px; }
tr:hover td { background: #eef3fb; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr));
  gap: 18px; }
figure.chart { margin: 0; padding: 10px; border: 1px solid var(--rule); border-radius: 6px;
  break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; margin-top: 6px; }
svg text { font-family: inherit; fill: var(--ink); }
.legend { display: flex; flex-wrap: wrap; gap: 2px 12px; list-style: none; padding: 0;
  margin: 6px 0 0; font-size: 0.8rem; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px;
  border-radius: 2px; vertical-align: baseline; }
.notes li { color: var(--muted); }
footer { margin: 30px auto 20px; color: var(--muted); font-size: 0.8rem; }
@media (max-width: 600px) {
  body { font-size: 14px; }
  .grid { grid-template-columns: 1fr; }
  h1 { font-size: 1.3rem; }
}
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 11pt; }
  header, main, footer { max-width: none; padding: 0; }
  nav { display: none; }
  .grid { display: block; }
  figure.chart { margin: 0 0 12pt; border: none; padding: 0; }
  figure.chart svg { max-width: 16cm; }
  h2 { break-before: page; }
  section:first-of-type h2 { break-before: auto; }
  .table-wrap { overflow: visible; }
  thead th, th:first-child, td:first-child { position: static; }
}
"""


# ---- numbers ------------------------------------------------------------------


def fmt(value: float | None, unit: str, currency: str = "CNY") -> str:
    """A value for reading: by unit, compact for money, '–' for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "ratio":  # as the terminal shows it: 0.93%, not 0.9%
        return percent(value)
    if unit in ("users", "count"):
        return f"{value:,.0f}"
    if unit == "currency":
        return f"{currency} {_compact(value)}"
    if unit == "tau":
        return f"{value:.2f}"
    if unit == "rank":
        return f"{value:g}"
    if unit == "index":
        return f"{value:,.0f}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def _compact(value: float) -> str:
    a = abs(value)
    for cut, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= cut:
            return f"{value / cut:.2f}{suffix}"
    return f"{value:,.2f}"


def _n(x: float) -> str:
    """An SVG coordinate."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(height: float, body: list[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {W} {_n(height)}" role="img" aria-label="{_t(label)}" '
        f'font-size="{FONT}">' + "".join(body) + "</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str, extra: str = "") -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" '
        f'fill="{fill}"{extra}><title>{_t(tip)}</title></rect>'
    )


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>{_t(s)}</text>'


def _short(s: str, n: int = 18) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<li><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{_t(n)}</li>'
        for i, n in enumerate(names)
    )
    return f'<ul class="legend">{items}</ul>'


# ---- the chart kinds ----------------------------------------------------------


def _bars(c: Chart, cur: str, stacked: bool) -> tuple[str, bool]:
    """Horizontal bars: one row per label, one bar (or segment) per series."""
    left, right, bar = 130, 70, 14 if stacked or len(c.series) > 1 else 18
    rows = len(c.labels)
    per = 1 if stacked else max(len(c.series), 1)
    row_h = per * bar + 10
    vals = [v or 0 for s in c.series for v in s.values]
    if stacked:
        sums = [sum(max(s.values[i] or 0, 0) for s in c.series) for i in range(rows)]
        lo, hi = 0.0, max(sums, default=0) or 1.0
    else:
        lo, hi = min(0.0, *vals) if vals else 0.0, max(0.0, *vals) if vals else 1.0
        hi = hi if hi > lo else lo + 1
    scale = (W - left - right) / (hi - lo)
    zero = left + (0 - lo) * scale
    body = [f'<line x1="{_n(zero)}" y1="4" x2="{_n(zero)}" y2="{rows * row_h + 4}" stroke="#999"/>']
    for i, label in enumerate(c.labels):
        y = 8 + i * row_h
        body.append(_text(left - 6, y + per * bar / 2 + 4, _short(label), "end"))
        if stacked:
            x = zero
            for k, s in enumerate(c.series):
                v = max(s.values[i] or 0, 0)
                tip = f"{label} · {s.name}: {fmt(s.values[i], c.unit, cur)}"
                body.append(_rect(x, y, v * scale, bar, PALETTE[k % len(PALETTE)], tip))
                x += v * scale
            continue
        for k, s in enumerate(c.series):
            v = s.values[i]
            yy = y + k * bar
            tip = f"{label} · {s.name}: {fmt(v, c.unit, cur)}"
            if v is None:
                body.append(_text(zero + 4, yy + bar - 3, "–", extra=' fill="#999"'))
                continue
            x0 = min(zero, zero + v * scale)
            color = PALETTE[k % len(PALETTE)] if len(c.series) > 1 else TOTAL
            body.append(_rect(x0, yy + 1, abs(v) * scale, bar - 2, color, tip))
            tx = zero + v * scale + (4 if v >= 0 else -4)
            body.append(
                _text(
                    tx,
                    yy + bar - 4,
                    fmt(v, c.unit, cur),
                    "start" if v >= 0 else "end",
                    ' font-size="11"',
                )
            )
    return _svg(rows * row_h + 12, body, c.title), len(c.series) > 1


def _funnel(c: Chart, cur: str) -> str:
    """Centred bars, widest stage first: the first series filled, the second outlined."""
    row_h, left = 34, 132
    span = W - left - 10
    hi = max((v or 0 for s in c.series for v in s.values), default=0) or 1
    body = []
    for i, label in enumerate(c.labels):
        y = 6 + i * row_h
        mid = left + span / 2
        body.append(_text(left - 6, y + 18, _short(label, 18), "end", ' font-size="11"'))
        for k, s in enumerate(c.series[:2]):
            v = s.values[i] or 0
            w = v / hi * span
            tip = f"{label} · {s.name}: {fmt(s.values[i], c.unit, cur)}"
            if k == 0:
                body.append(_rect(mid - w / 2, y, w, row_h - 6, PALETTE[i % len(PALETTE)], tip))
            else:
                body.append(
                    _rect(
                        mid - w / 2,
                        y + 2,
                        w,
                        row_h - 10,
                        "none",
                        tip,
                        ' stroke="#1d2330" stroke-dasharray="4 3" stroke-width="1.2"',
                    )
                )
        now = c.series[0].values[i] if c.series else None
        body.append(_text(mid, y + 18, fmt(now, c.unit, cur), "middle", ' font-weight="600"'))
    return _svg(len(c.labels) * row_h + 8, body, c.title)


def _color(v: float | None, lo: float, hi: float) -> str:
    """Sequential blue (or diverging red-white-blue when the range spans zero)."""
    if v is None:
        return "#eeeeee"
    if lo < 0 < hi:
        t = v / hi if v >= 0 else -v / -lo
        base = (33, 102, 172) if v >= 0 else (178, 24, 43)
    else:
        t = (v - lo) / (hi - lo) if hi != lo else 1.0
        base = (33, 102, 172)
    t = max(0.0, min(1.0, t))
    r, g, b = (round(255 + (c - 255) * t) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def _heatmap(c: Chart, cur: str) -> str:
    left, top = 110, 70
    cols, rows = len(c.labels), len(c.series)
    cw = (W - left - 4) / max(cols, 1)
    ch = 24
    vals = [v for s in c.series for v in s.values if v is not None]
    lo, hi = (min(vals), max(vals)) if vals else (0, 1)
    if c.unit == "rank":  # 1 is best: the best is the darkest
        lo, hi = hi, lo
    body = []
    for j, label in enumerate(c.labels):
        x = left + j * cw + cw / 2
        body.append(
            _text(
                x,
                top - 6,
                _short(label, 14),
                "start",
                f' transform="rotate(-40 {_n(x)} {_n(top - 6)})" font-size="11"',
            )
        )
    for i, s in enumerate(c.series):
        y = top + i * ch
        body.append(_text(left - 6, y + ch / 2 + 4, _short(s.name, 15), "end"))
        for j, v in enumerate(s.values):
            fill = _color(v, lo, hi)
            tip = f"{s.name} × {c.labels[j]}: {fmt(v, c.unit, cur)}"
            body.append(_rect(left + j * cw, y, cw - 1, ch - 1, fill, tip))
            dark = v is not None and (
                abs(v - lo) / ((hi - lo) or 1) > 0.6 or (lo < 0 < hi and v < lo / 2)
            )
            if cw >= 34:
                body.append(
                    _text(
                        left + j * cw + cw / 2,
                        y + ch / 2 + 4,
                        fmt(v, c.unit, cur),
                        "middle",
                        ' font-size="10"' + (' style="fill:#fff"' if dark else ""),
                    )
                )
    return _svg(top + rows * ch + 6, body, c.title)


def _quadrant(c: Chart, cur: str) -> str:
    left, bottom, top, right = 60, 40, 14, 20
    h = 340
    pts = [p for p in c.points if p.x is not None and p.y is not None]
    xs, ys = [p.x for p in pts], [p.y for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    padx, pady = (x1 - x0) * 0.12 or abs(x1) * 0.1 or 1, (y1 - y0) * 0.12 or abs(y1) * 0.1 or 1
    x0, x1, y0, y1 = x0 - padx, x1 + padx, y0 - pady, y1 + pady

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (W - left - right)

    def py(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * (h - top - bottom)

    mx, my = median(xs), median(ys)
    sizes = [p.size for p in pts if p.size is not None and p.size > 0]
    smax = max(sizes, default=1)
    body = [
        f'<rect x="{left}" y="{top}" width="{W - left - right}" height="{h - top - bottom}" '
        'fill="#fafbfd" stroke="#ccc"/>',
        f'<line x1="{_n(px(mx))}" y1="{top}" x2="{_n(px(mx))}" y2="{h - bottom}" '
        'stroke="#999" stroke-dasharray="4 3"/>',
        f'<line x1="{left}" y1="{_n(py(my))}" x2="{W - right}" y2="{_n(py(my))}" '
        'stroke="#999" stroke-dasharray="4 3"/>',
        _text((left + W - right) / 2, h - 6, c.x_title, "middle", ' font-size="12"'),
        _text(
            14,
            (top + h - bottom) / 2,
            c.y_title,
            "middle",
            f' transform="rotate(-90 14 {_n((top + h - bottom) / 2)})" font-size="12"',
        ),
        _text(left, h - bottom + 14, fmt(x0 + padx, "", cur), "start", ' font-size="10"'),
        _text(W - right, h - bottom + 14, fmt(x1 - padx, "", cur), "end", ' font-size="10"'),
        _text(
            left - 4,
            h - bottom - pady / (y1 - y0) * (h - top - bottom),
            fmt(y0 + pady, "", cur),
            "end",
            ' font-size="10"',
        ),
        _text(left - 4, top + 10, fmt(y1 - pady, "", cur), "end", ' font-size="10"'),
    ]
    order = sorted(range(len(pts)), key=lambda i: -(pts[i].size or 0))
    for i in order:
        p = pts[i]
        r = 4 + 18 * math.sqrt((p.size or 0) / smax) if sizes else 6
        tip = f"{p.label}: x {fmt(p.x, '', cur)}, y {fmt(p.y, '', cur)}" + (
            f", size {fmt(p.size, '', cur)}" if p.size is not None else ""
        )
        color = PALETTE[i % len(PALETTE)]
        body.append(
            f'<circle cx="{_n(px(p.x))}" cy="{_n(py(p.y))}" r="{_n(r)}" fill="{color}" '
            f'fill-opacity="0.6" stroke="{color}"><title>{_t(tip)}</title></circle>'
        )
        body.append(
            _text(px(p.x), py(p.y) - r - 2, _short(p.label, 14), "middle", ' font-size="11"')
        )
    return _svg(h, body, c.title)


def _waterfall(c: Chart, cur: str) -> str:
    left, bottom, top, h = 56, 44, 16, 260
    vals = c.series[0].values
    n = len(vals)
    level, tops = 0.0, []
    for i, v in enumerate(vals):
        v = v or 0.0
        if i == 0 or i == n - 1:
            tops.append((0.0, v))
            level = v
        else:
            tops.append((level, level + v))
            level += v
    lo = min(0.0, *(min(a, b) for a, b in tops))
    hi = max(0.0, *(max(a, b) for a, b in tops))
    hi = hi if hi > lo else lo + 1

    def py(y: float) -> float:
        return top + (hi - y) / (hi - lo) * (h - top - bottom)

    bw = (W - left - 10) / max(n, 1)
    body = [f'<line x1="{left}" y1="{_n(py(0))}" x2="{W - 10}" y2="{_n(py(0))}" stroke="#999"/>']
    for i, ((a, b), label) in enumerate(zip(tops, c.labels, strict=True)):
        x = left + i * bw + bw * 0.15
        total = i in (0, n - 1)
        fill = TOTAL if total else (POSITIVE if b >= a else NEGATIVE)
        tip = f"{label}: {fmt(vals[i], c.unit, cur)}"
        body.append(_rect(x, py(max(a, b)), bw * 0.7, abs(py(a) - py(b)), fill, tip))
        body.append(
            _text(
                x + bw * 0.35,
                py(max(a, b)) - 4,
                fmt(vals[i], c.unit, cur),
                "middle",
                ' font-size="10"',
            )
        )
        body.append(
            _text(x + bw * 0.35, h - bottom + 16, _short(label, 10), "middle", ' font-size="11"')
        )
    return _svg(h, body, c.title)


def _line(c: Chart, cur: str) -> tuple[str, bool]:
    left, bottom, top, h = 56, 40, 12, 260
    vals = [v for s in c.series for v in s.values if v is not None]
    lo, hi = min(0.0, *vals) if vals else 0.0, max(vals, default=1.0)
    hi = hi if hi > lo else lo + 1
    n = len(c.labels)
    step = (W - left - 16) / max(n - 1, 1)

    def py(y: float) -> float:
        return top + (hi - y) / (hi - lo) * (h - top - bottom)

    body = [
        f'<line x1="{left}" y1="{_n(py(lo))}" x2="{W - 10}" y2="{_n(py(lo))}" stroke="#999"/>',
        _text(left - 4, py(hi) + 4, fmt(hi, c.unit, cur), "end", ' font-size="10"'),
        _text(left - 4, py(lo) + 4, fmt(lo, c.unit, cur), "end", ' font-size="10"'),
        _text((left + W) / 2, h - 4, c.x_title, "middle", ' font-size="12"'),
    ]
    every = max(1, math.ceil(n / 10))
    for j, label in enumerate(c.labels):
        if j % every == 0 or j == n - 1:
            body.append(
                _text(
                    left + j * step, h - bottom + 16, _short(label, 8), "middle", ' font-size="10"'
                )
            )
    for k, s in enumerate(c.series):
        color = PALETTE[k % len(PALETTE)]
        pts = [(left + j * step, py(v)) for j, v in enumerate(s.values) if v is not None]
        if len(pts) > 1:
            d = " ".join(f"{_n(x)},{_n(y)}" for x, y in pts)
            body.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for j, v in enumerate(s.values):
            if v is not None:
                tip = f"{s.name} · {c.labels[j]}: {fmt(v, c.unit, cur)}"
                body.append(
                    f'<circle cx="{_n(left + j * step)}" cy="{_n(py(v))}" r="3" fill="{color}">'
                    f"<title>{_t(tip)}</title></circle>"
                )
    return _svg(h, body, c.title), len(c.series) > 1


def _sankey(c: Chart, cur: str) -> str:
    """Two columns: sources on the left, targets on the right, in the chart's label order."""
    h, top, gap, nw = 300, 8, 8, 12
    order = {label: i for i, label in enumerate(c.labels)}

    def ranked(names: set[str]) -> list[str]:
        return sorted(names, key=lambda n: (order.get(n, len(order)), n))

    links = [link for link in c.links if link.value > 0]
    lefts = ranked({link.source for link in links})
    rights = ranked({link.target for link in links})
    total = sum(link.value for link in links) or 1
    usable = h - top * 2 - gap * max(len(lefts), len(rights))
    k = usable / total
    color = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(c.labels)}

    def place(names: list[str], side: str) -> dict[str, float]:
        y, out = float(top), {}
        for n in names:
            out[n] = y
            size = sum(lk.value for lk in links if getattr(lk, side) == n)
            y += size * k + gap
        return out

    ly, ry = place(lefts, "source"), place(rights, "target")
    xl, xr = 110, W - 110
    body = []
    lo, ro = dict(ly), dict(ry)  # running offsets within each node
    for link in sorted(links, key=lambda lk: (order.get(lk.source, 99), order.get(lk.target, 99))):
        w = link.value * k
        y1, y2 = lo[link.source] + w / 2, ro[link.target] + w / 2
        lo[link.source] += w
        ro[link.target] += w
        mid = (xl + nw + xr) / 2
        d = f"M{_n(xl + nw)},{_n(y1)} C{_n(mid)},{_n(y1)} {_n(mid)},{_n(y2)} {_n(xr)},{_n(y2)}"
        tip = f"{link.source} → {link.target}: {fmt(link.value, c.unit, cur)}"
        body.append(
            f'<path d="{d}" fill="none" stroke="{color.get(link.source, "#888")}" '
            f'stroke-opacity="0.45" stroke-width="{_n(max(w, 0.6))}">'
            f"<title>{_t(tip)}</title></path>"
        )
    for names, ys, side, x in ((lefts, ly, "source", xl), (rights, ry, "target", xr)):
        for n in names:
            size = sum(lk.value for lk in links if getattr(lk, side) == n)
            tip = f"{n} ({'before' if side == 'source' else 'now'}): {fmt(size, c.unit, cur)}"
            body.append(_rect(x, ys[n], nw, max(size * k, 1), color.get(n, "#888"), tip))
            label = f"{_short(n, 11)} {fmt(size, c.unit, cur)}"
            if side == "source":
                body.append(_text(x - 4, ys[n] + size * k / 2 + 4, label, "end", ' font-size="11"'))
            else:
                body.append(
                    _text(x + nw + 4, ys[n] + size * k / 2 + 4, label, "start", ' font-size="11"')
                )
    return _svg(h, body, c.title)


def _box(c: Chart, cur: str) -> str:
    """Horizontal box plots on one shared axis: one row per label, whiskers from the first
    series to the fifth, the box from the second to the fourth, a line at the third and a
    dot at the sixth (if any); the median's value is written past the high whisker."""
    left, right, top, row_h, half = 130, 70, 6, 28, 8
    vals = [v for s in c.series for v in s.values if v is not None]
    bottom = top + len(c.labels) * row_h
    height = bottom + 20  # the axis labels (and, on a log scale, its caption) below
    if c.scale == "log":  # every power of ten, short, and the unit once below
        px, lo, hi, ticks = _log_axis(vals, left, W - right)
        marks = []
        for t in [lo, *ticks, hi]:
            if t not in (lo, hi):
                marks.append(
                    f'<line x1="{_n(px(t))}" y1="{top}" x2="{_n(px(t))}" y2="{bottom}" '
                    'stroke="#e3e6eb"/>'
                )
            marks.append(_text(px(t), bottom + 14, _power(t), "middle", ' font-size="10"'))
        unit = cur if c.unit == "currency" else c.unit
        caption = f"{unit}, log scale" if unit else "log scale"
        middle = (px(lo) + px(hi)) / 2
        marks.append(_text(middle, bottom + 28, caption, "middle", ' font-size="10"'))
        height += 14
    else:
        lo, hi = min(0.0, *vals) if vals else 0.0, max(0.0, *vals) if vals else 1.0
        hi = hi if hi > lo else lo + 1
        scale = (W - left - right) / (hi - lo)

        def px(v: float) -> float:
            return left + (v - lo) * scale

        marks = [
            _text(px(lo), bottom + 14, fmt(lo, c.unit, cur), "start", ' font-size="10"'),
            _text(px(hi), bottom + 14, fmt(hi, c.unit, cur), "end", ' font-size="10"'),
        ]
    body = [
        f'<line x1="{_n(px(lo))}" y1="{bottom}" x2="{_n(px(hi))}" y2="{bottom}" stroke="#999"/>',
        *marks,
    ]
    for i, label in enumerate(c.labels):
        yc = top + i * row_h + row_h / 2
        body.append(_text(left - 6, yc + 4, _short(label), "end"))
        five = [s.values[i] for s in c.series[:5]]
        if any(v is None for v in five):
            body.append(_text(px(lo) + 4, yc + 4, "–", extra=' fill="#999"'))
            continue
        w0, b0, med, b1, w1 = (px(v) for v in five)  # type: ignore[arg-type]
        tip = f"{label} · " + ", ".join(
            f"{s.name} {fmt(s.values[i], c.unit, cur)}" for s in c.series if s.values[i] is not None
        )
        parts = [
            f"<title>{_t(tip)}</title>",
            f'<line x1="{_n(w0)}" y1="{_n(yc)}" x2="{_n(w1)}" y2="{_n(yc)}" stroke="#5b6475"/>',
            *(
                f'<line x1="{_n(x)}" y1="{_n(yc - half / 2)}" x2="{_n(x)}" '
                f'y2="{_n(yc + half / 2)}" stroke="#5b6475"/>'
                for x in (w0, w1)
            ),
            f'<rect x="{_n(b0)}" y="{_n(yc - half)}" width="{_n(max(b1 - b0, 1))}" '
            f'height="{2 * half}" fill="{TOTAL}" fill-opacity="0.35" stroke="{TOTAL}"/>',
            f'<line x1="{_n(med)}" y1="{_n(yc - half)}" x2="{_n(med)}" y2="{_n(yc + half)}" '
            'stroke="#1d2330" stroke-width="2"/>',
        ]
        if len(c.series) > 5 and c.series[5].values[i] is not None:
            mean = px(c.series[5].values[i])  # type: ignore[arg-type]
            parts.append(
                f'<circle cx="{_n(mean)}" cy="{_n(yc)}" r="3" fill="#fff" stroke="#e15759" '
                'stroke-width="1.5"/>'
            )
        body.append(f"<g>{''.join(parts)}</g>")
        body.append(_text(w1 + 4, yc + 4, fmt(five[2], c.unit, cur), extra=' font-size="11"'))
    return _svg(height, body, c.title)


def _log_axis(
    vals: list[float], x0: float, x1: float
) -> tuple[Callable[[float], float], float, float, list[float]]:
    """A log10 axis from x0 to x1 over the positive values, widened to whole powers of
    ten: (position of a value, low end, high end, the powers of ten between the ends).
    A value at or below zero sits at the low end."""
    positive = [v for v in vals if v > 0]
    lo_exp = math.floor(math.log10(min(positive))) if positive else 0
    hi_exp = math.ceil(math.log10(max(positive))) if positive else 1
    hi_exp = max(hi_exp, lo_exp + 1)
    per_decade = (x1 - x0) / (hi_exp - lo_exp)

    def px(v: float) -> float:
        return x0 + (max(math.log10(v), lo_exp) - lo_exp) * per_decade if v > 0 else x0

    ticks = [10.0**e for e in range(lo_exp + 1, hi_exp)]
    return px, 10.0**lo_exp, 10.0**hi_exp, ticks


def _power(v: float) -> str:
    """A power of ten, short: 0.01, 0.1, 1, 10, 100, 1k, 10k, 1M."""
    e = round(math.log10(v))
    for exp, suffix in ((9, "B"), (6, "M"), (3, "k")):
        if e >= exp:
            return f"{10 ** (e - exp)}{suffix}"
    return f"{10**e}" if e >= 0 else f"{v:.{-e}f}"


def chart_html(c: Chart, currency: str) -> str:
    """One chart as a figure: heading, definition, indicators and source, the SVG."""
    legend: list[str] = []
    if c.kind in ("bar", "stacked_bar"):
        svg, multi = _bars(c, currency, c.kind == "stacked_bar")
        legend = [s.name for s in c.series] if multi else []
    elif c.kind == "funnel":
        svg = _funnel(c, currency)
    elif c.kind == "heatmap":
        svg = _heatmap(c, currency)
    elif c.kind == "quadrant":
        svg = _quadrant(c, currency)
    elif c.kind == "waterfall":
        svg = _waterfall(c, currency)
    elif c.kind == "line":
        svg, multi = _line(c, currency)
        legend = [s.name for s in c.series] if multi else []
    elif c.kind == "box":
        svg = _box(c, currency)
    else:
        svg = _sankey(c, currency)
    meta = []
    if c.indicators:
        meta.append("Indicators: " + ", ".join(f"<code>{_t(i)}</code>" for i in c.indicators))
    if c.source:
        meta.append(f"Source: {_t(c.source)}")
    extra = ""
    if c.kind == "funnel" and len(c.series) > 1:
        extra = (
            f'<p class="meta">Filled: {_t(c.series[0].name)}; dashed: {_t(c.series[1].name)}</p>'
        )
    if c.kind == "box":
        names = [s.name for s in c.series]
        extra = (
            f'<p class="meta">Whiskers: {_t(names[0])} to {_t(names[4])}; box: {_t(names[1])} '
            f"to {_t(names[3])}; line: {_t(names[2])}"
            + (f"; dot: {_t(names[5])}" if len(names) > 5 else "")
            + ("; log scale" if c.scale == "log" else "")
            + "</p>"
        )
    note = f'<p class="meta">{_t(c.note)}</p>' if c.note else ""
    return (
        f'<figure class="chart" id="chart-{_t(c.id)}" data-chart-id="{_t(c.id)}" '
        f'data-kind="{c.kind}"><figcaption><h3>{_t(c.title)}</h3>'
        f'<p class="def">{_t(c.definition)}</p><p class="meta">{" · ".join(meta)}</p>'
        f"{extra}{note}</figcaption>{svg}"
        f"{_legend(legend) if legend else ''}</figure>"
    )


# ---- the page -------------------------------------------------------------------


def _table(head: list[str], rows: list[list[str]]) -> str:
    """Cells are already HTML (escaped by the caller)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(rows_) + "</tr>" for rows_ in rows)
    return (
        f'<div class="table-wrap"><table><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _td(text: str, title: str = "", cls: str = "") -> str:
    attrs = (f' title="{_t(title)}"' if title else "") + (f' class="{cls}"' if cls else "")
    return f"<td{attrs}>{text}</td>"


def _brands(n: int) -> str:
    return f"{n} brand" if n == 1 else f"{n} brands"


def _overview_html(r: Report) -> str:
    d = r.dataset
    facts = [
        ("Source", d.source),
        ("As of", r.as_of),
        ("Time zone", r.timezone),
        ("Rows read", f"{d.rows_read:,}"),
        ("Rows accepted", f"{d.rows_accepted:,}"),
        ("Rows quarantined", f"{d.rows_quarantined:,}"),
        ("Brands", str(len(r.brands))),
        ("Methodologies", ", ".join(m.upper() for m in r.methodologies) or "none"),
    ]
    out = ['<div class="facts">']
    out += [f"<div><b>{_t(k)}</b>{_t(v)}</div>" for k, v in facts]
    out.append("</div>")
    short = [(r.as_of, h) for h in r.comparison.short_history]
    base = r.comparison.baseline
    if base is not None:
        short += [(f"{base.as_of} (baseline)", h) for h in base.short_history]
    if short:
        out.append("<h3>Methodologies that read further back than the data</h3>")
        out.append(
            f'<p class="muted">The data starts {_t(short[0][1].data_from)}: what these count '
            "before it is missing, not zero.</p>"
        )
        out.append(
            _table(
                ["as of", "methodology", "reads from", "days"],
                [
                    [
                        _td(_t(when)),
                        _td(_t(h.methodology.upper())),
                        _td(_t(h.reads_from)),
                        _td(f"{h.days:,}"),
                    ]
                    for when, h in short
                ],
            )
        )
    if r.comparison.unmatched_values:
        out.append("<h3>Parameter values no event has</h3>")
        out += [
            f'<p class="muted">{_t(unmatched_text(u))}</p>' for u in r.comparison.unmatched_values
        ]
    if d.quarantined_by_reason:
        out.append("<h3>Quarantined rows by reason</h3>")

        def columns(reason: str) -> str:
            by = d.quarantined_columns.get(reason, {})
            return "; ".join(f"{c} {n:,}" for c, n in by.items())

        out.append(
            _table(
                ["reason", "rows", "columns"],
                [
                    [_td(_t(k)), _td(f"{v:,}"), _td(_t(columns(k)))]
                    for k, v in sorted(d.quarantined_by_reason.items())
                ],
            )
        )
    else:
        out.append('<p class="muted">No row was quarantined.</p>')
    if r.parameters_changed:
        rows = [
            [_td(_t(f"{m}.{k}")), _td(_t(v))]
            for m, ps in r.parameters_changed.items()
            for k, v in ps.items()
        ]
        out.append("<h3>Parameters that differ from the defaults</h3>")
        out.append(_table(["parameter", "value"], rows))
    else:
        out.append('<p class="muted">Every parameter is at its default.</p>')
    out.append(_comparison_html(r))
    return "".join(out)


def _comparison_html(r: Report) -> str:
    c = r.comparison
    if not c.columns:
        return '<p class="muted">No headline indicator to compare.</p>'
    ranks = {
        (x.methodology, b.brand): b for x in c.rankings for b in x.brands
    }  # (methodology, brand) -> ranks
    base = {(x.brand, x.indicator): x for x in c.baseline.cells} if c.baseline else {}
    ranked = {  # indicator -> how many brands have a rank on it (a null value has none)
        i: sum(b.ranks.get(i) is not None for b in x.brands)
        for x in c.rankings
        for i in x.indicators
    }
    head = ["indicator", *(_t(row.brand) for row in c.rows)]
    rows = []
    for col in c.columns:
        cells = [_td(f"{_t(col.title)}<br><code>{_t(col.indicator)}</code>", col.indicator)]
        for row in c.rows:
            v = row.values.get(col.indicator)
            rk = ranks.get((col.methodology, row.brand))
            rank = rk.ranks.get(col.indicator) if rk else None
            tip = f"{row.brand} · {col.title}: {fmt(v, col.unit, c.currency)}"
            if rank is not None:
                tip += f" · rank {rank:g} of {ranked[col.indicator]} ({col.direction} is better)"
            if row.missing.get(col.indicator):
                tip += f" · null: {row.missing[col.indicator]}"
            b = base.get((row.brand, col.indicator))
            change = None
            if b is not None and b.change is not None:
                change = change_text(b, col.unit, c.currency)
            if change is not None:
                tip += f" · {change} since {c.baseline.as_of}"  # type: ignore[union-attr]
            text = _t(fmt(v, col.unit, c.currency))
            if col.indicator in row.small_base:
                n = row.small_base[col.indicator]
                text += SMALL_BASE
                tip += f" · over {n} {col.base} (fewer than {c.min_base}): read with care"
            if rank is not None:
                text += f'<span class="rank">#{rank:g}</span>'
            if change is not None:
                text += f'<br><span class="rank">{_t(change)}</span>'
            cells.append(_td(text, tip, "best" if row.brand in col.best else ""))
        rows.append(cells)
    for x in c.rankings:
        cells = [_td(f"{_t(x.methodology.upper())} composite rank", "mean of headline ranks")]
        for row in c.rows:
            b = ranks.get((x.methodology, row.brand))
            cr = b.composite_rank if b else None
            cells.append(_td("–" if cr is None else f"{cr:g}", f"{row.brand}: composite rank"))
        rows.append(cells)
    caption = (
        '<h3>Comparison</h3><p class="muted">Headline indicators; the best value per row '
        "is highlighted, #n is the brand's rank (hover a cell for details)"
        + (f"; change since {_t(c.baseline.as_of)} under each value" if c.baseline else "")
        + "."
        + ("" if (small := small_base_note(c)) is None else f" {_t(small)}.")
        + "</p>"
    )
    return caption + _table(head, rows)


def _section_html(s: ReportSection, currency: str) -> str:
    charts = "".join(chart_html(c, currency) for c in s.charts)
    notes = "".join(f"<li>{_t(n)}</li>" for n in s.notes)
    return (
        f'<section id="{_t(s.id)}" data-section-id="{_t(s.id)}"><h2>{_t(s.title)}</h2>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + (f'<div class="grid">{charts}</div>' if charts else "")
        + "</section>"
    )


def render_html(r: Report) -> str:
    """The whole report as one HTML document (no script, no external resource)."""
    nav = "".join(f'<li><a href="#{_t(s.id)}">{_t(s.title)}</a></li>' for s in r.sections)
    sections = []
    for s in r.sections:
        html = _section_html(s, r.currency)
        if s.id == "overview":
            html = html.replace("</h2>", "</h2>" + _overview_html(r), 1)
        sections.append(html)
    notes = "".join(f"<li>{_t(n)}</li>" for n in r.notes)
    title = f"brandlens report · {r.as_of}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_t(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>Consumer assets, compared</h1><p class="muted">{_brands(len(r.brands))} · '
        f"as of {_t(r.as_of)} ({_t(r.timezone)}) · brandlens {_t(r.brandlens_version)}</p>"
        f"<nav><ul>{nav}</ul></nav></header><main>{''.join(sections)}"
        + (
            f'<section id="notes" data-section-id="notes"><h2>Left out</h2>'
            f'<ul class="notes">{notes}</ul></section>'
            if notes
            else ""
        )
        + "</main><footer>Made by brandlens from the event log alone; every chart names its "
        "indicators and source (brandlens explain INDICATOR).</footer></body></html>\n"
    )
