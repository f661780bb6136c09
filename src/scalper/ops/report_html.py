"""The report as one self-contained HTML page: inline CSS and inline SVG charts, no scripts.

Nothing is fetched when the page opens (no fonts, no JavaScript, no images), so it can be
mailed, archived or opened offline. Every text from the data is HTML-escaped: object keys
are chosen by uploaders.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape

from scalper.ops.report import ReportData

COLORS = {"VALID": "#2e9e5b", "QUARANTINED": "#e8a33d", "FAILED": "#d64545"}
INK, MUTED, GRID = "#1f2933", "#6b7785", "#e4e8ee"


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (axis tops)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def human_bytes(value: float) -> str:
    """1536 -> ``1.5 KiB``."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    size, unit = float(value), 0
    while size >= 1024 and unit < len(units) - 1:
        size /= 1024
        unit += 1
    if unit == 0 or size == int(size):
        return f"{size:.0f} {units[unit]}"
    return f"{size:.1f} {units[unit]}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _ticks(top: float) -> list[float]:
    """Axis ticks at round values: 0..top in 5 steps for 1 and 5 (x10^n), 4 steps for 2."""
    lead = round(top / 10 ** math.floor(math.log10(top))) if top > 0 else 1
    n = 4 if lead == 2 else 5
    return [top * i / n for i in range(n + 1)]


def stacked_days_chart(data: ReportData, width: int = 760, height: int = 280) -> str:
    """Files per day, one bar per day stacked by outcome."""
    left, right, top_pad, bottom = 48, 12, 16, 44
    days = sorted({d for d, _, _, _ in data.per_day})
    counts = {(d, s): f for d, s, f, _ in data.per_day}
    totals = [sum(counts.get((d, s), 0) for s in COLORS) for d in days]
    top = nice_max(max([*totals, 5]))
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    slot = plot_w / max(1, len(days))
    bar_w = max(2.0, min(48.0, slot * 0.7))
    parts = [_svg_open(width, height, "Files per day by outcome")]
    parts.extend(_y_axis(top, left, top_pad, plot_w, plot_h))
    label_every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        x = left + slot * i + (slot - bar_w) / 2
        y = float(top_pad + plot_h)
        for status, color in COLORS.items():
            n = counts.get((day, status), 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{color}" rx="2"><title>{escape(day)} {status}: {n}</title></rect>'
            )
        if totals[i]:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" class="val">{totals[i]}</text>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h + 16}" class="tick">'
                f"{escape(day[5:])}</text>"
            )
    parts.append(_legend(left, height - 12))
    parts.append("</svg>")
    return "".join(parts)


def reasons_chart(data: ReportData, width: int = 440) -> str:
    """Quarantine reasons as horizontal bars, most frequent first."""
    if not data.reasons:
        return '<p class="empty">No file was quarantined in this period.</p>'
    row, label_w, pad = 30, 170, 8
    height = row * len(data.reasons) + pad * 2
    top = max(n for _, n in data.reasons)
    bar_space = width - label_w - 60
    parts = [_svg_open(width, height, "Top quarantine reasons")]
    for i, (reason, n) in enumerate(data.reasons):
        y = pad + i * row
        w = max(2.0, bar_space * n / top)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" class="label">'
            f"{escape(reason)}</text>"
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row - 10}" rx="3" '
            f'fill="{COLORS["QUARANTINED"]}"><title>{escape(reason)}: {n}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + row / 2 + 4:.1f}" class="num">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def throughput_chart(data: ReportData, width: int = 600, height: int = 260) -> str:
    """Files per hour (or day) as bars, bytes as a line on a second axis."""
    if not any(n for _, n, _ in data.throughput):
        return '<p class="empty">No file finished in this period.</p>'
    left, right, top_pad, bottom = 48, 76, 16, 52
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    files_top = nice_max(max([5, *(n for _, n, _ in data.throughput)]))
    most = max([1, *(b for _, _, b in data.throughput)])
    # Round in binary units so the axis reads 50 MiB, 100 MiB... rather than 47.7 MiB.
    unit = 1024 ** min(4, int(math.log(most, 1024)))
    bytes_top = nice_max(most / unit) * unit
    slot = plot_w / len(data.throughput)
    bar_w = max(2.0, min(40.0, slot * 0.7))
    parts = [_svg_open(width, height, f"Files and bytes per {data.throughput_unit}")]
    parts.extend(_y_axis(files_top, left, top_pad, plot_w, plot_h))
    for value in _ticks(bytes_top):
        y = top_pad + plot_h - plot_h * value / bytes_top
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" class="rtick">'
            f"{human_bytes(value)}</text>"
        )
    points: list[str] = []
    label_every = max(1, math.ceil(len(data.throughput) / 8))
    for i, (start, n, b) in enumerate(data.throughput):
        x = left + slot * i + (slot - bar_w) / 2
        h = plot_h * n / files_top
        parts.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" fill="#5b7fd6" rx="2"><title>{escape(start)}: {n} files, '
            f"{human_bytes(b)}</title></rect>"
        )
        points.append(f"{x + bar_w / 2:.1f},{top_pad + plot_h - plot_h * b / bytes_top:.1f}")
        if i % label_every == 0:
            label = start[11:16] if data.throughput_unit == "hour" else start[5:10]
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h + 16}" class="tick">'
                f"{escape(label)}</text>"
            )
    y = height - 10
    parts.append(
        f'<rect x="{left}" y="{y - 9}" width="10" height="10" rx="2" fill="#5b7fd6"/>'
        f'<text x="{left + 14}" y="{y}" class="legend">files (left)</text>'
        f'<line x1="{left + 110}" x2="{left + 126}" y1="{y - 4}" y2="{y - 4}" stroke="#1f2933" '
        'stroke-width="2"/>'
        f'<text x="{left + 132}" y="{y}" class="legend">bytes (right)</text>'
    )
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f2933" '
        'stroke-width="2" stroke-linejoin="round"/>'
    )
    parts.extend(  # dots only where bytes moved: empty hours stay a flat line
        f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3" fill="#1f2933"/>'
        for p, (_, _, b) in zip(points, data.throughput, strict=True)
        if b
    )
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}">'
    )


def _y_axis(top: float, left: int, top_pad: int, plot_w: int, plot_h: int) -> list[str]:
    out: list[str] = []
    for value in _ticks(top):
        y = top_pad + plot_h - plot_h * value / top
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="ytick">'
            f"{_count(value)}</text>"
        )
    return out


def _legend(x: int, y: int) -> str:
    items = []
    for status, color in COLORS.items():
        items.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" rx="2" fill="{color}"/>'
            f'<text x="{x + 14}" y="{y}" class="legend">{status}</text>'
        )
        x += 24 + 8 * len(status)
    return "".join(items)


def _card(label: str, value: str, note: str = "", tone: str = "") -> str:
    return (
        f'<div class="card {tone}"><div class="k">{escape(label)}</div>'
        f'<div class="v">{escape(value)}</div><div class="n">{escape(note)}</div></div>'
    )


CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f5f7fa;color:#1f2933;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 40px}
header h1{font-size:26px;margin:0 0 4px}
header p{margin:0;color:#6b7785}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;
margin:22px 0}
.card{background:#fff;border-radius:10px;padding:14px 16px;
box-shadow:0 1px 2px rgba(16,24,40,.08);border-top:4px solid #5b7fd6}
.card.good{border-top-color:#2e9e5b}
.card.warn{border-top-color:#e8a33d}
.card.bad{border-top-color:#d64545}
.card .k{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#6b7785}
.card .v{font-size:24px;white-space:nowrap;font-weight:650;margin-top:2px}
.card .n{font-size:13px;color:#6b7785;min-height:18px}
.grid{display:grid;grid-template-columns:3fr 2fr;gap:16px}
@media (max-width:900px){.grid{grid-template-columns:1fr}
}
section{background:#fff;border-radius:10px;padding:16px 18px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(16,24,40,.08)}
section h2{font-size:16px;margin:0 0 10px}
svg text{font-family:inherit}
svg .tick{font-size:11px;fill:#6b7785;text-anchor:middle}
svg .ytick{font-size:11px;fill:#6b7785;text-anchor:end}
svg .rtick{font-size:11px;fill:#6b7785;text-anchor:start}
svg .val{font-size:11px;fill:#1f2933;text-anchor:middle;font-weight:600}
svg .label{font-size:12px;fill:#1f2933;text-anchor:end}
svg .num{font-size:12px;fill:#1f2933;font-weight:600}
svg .legend{font-size:12px;fill:#1f2933}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #e4e8ee;vertical-align:top}
th{color:#6b7785;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
td.key{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.pill{display:inline-block;padding:1px 8px;border-radius:99px;color:#fff;font-size:11px;
font-weight:650}
.empty{color:#6b7785;margin:8px 0}
footer{color:#6b7785;font-size:12px;margin-top:12px}
"""


def render(data: ReportData, *, generated: datetime | None = None) -> str:
    """The whole page."""
    t = data.totals
    generated = generated or datetime.now(UTC)
    period = f"{data.since:%Y-%m-%d %H:%M} \u2013 {data.until:%Y-%m-%d %H:%M} UTC"
    cards = "".join(
        [
            _card("Files", _count(t.files), f"{_count(t.records)} records"),
            _card(
                "Valid",
                f"{t.valid_rate:.0%}" if t.files else "\u2013",
                f"{_count(t.valid)} files",
                "good",
            ),
            _card("Quarantined", _count(t.quarantined), "content problems", "warn"),
            _card(
                "Failed",
                _count(t.failed),
                f"failure rate {t.failure_rate:.1%}" if t.files else "",
                "bad" if t.failed else "good",
            ),
            _card("Data validated", human_bytes(t.bytes), f"{t.uploaders} uploader(s)"),
            _card(
                "Latency (median)",
                _duration(t.median_latency),
                f"p95 {_duration(t.p95_latency)}" if t.p95_latency is not None else "",
            ),
        ]
    )
    problems = "".join(
        f"<tr><td>{escape(at[:19].replace('T', ' '))}</td>"
        f'<td><span class="pill" style="background:{COLORS.get(status, MUTED)}">'
        f"{escape(status)}</span></td><td>{escape(why)}</td>"
        f'<td class="key">{escape(key)}</td></tr>'
        for at, key, status, why in data.problems
    )
    problems_html = (
        f"<table><tr><th>When</th><th>Outcome</th><th>Why</th><th>File</th></tr>{problems}</table>"
        if data.problems
        else '<p class="empty">Every file of this period is VALID.</p>'
    )
    uploaders = "".join(
        f'<tr><td class="key">{escape(name)}</td><td>{n}</td><td>{bad:.0%}</td></tr>'
        for name, n, bad in data.uploaders
    )
    uploaders_html = (
        f"<table><tr><th>Uploader</th><th>Files</th><th>Not valid</th></tr>{uploaders}</table>"
        if data.uploaders
        else '<p class="empty">No upload in this period carries an uploader identity.</p>'
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(data.title)} — report</title><style>{CSS}</style></head>
<body><main>
<header><h1>{escape(data.title)}</h1><p>{escape(period)} · {escape(data.source)}</p></header>
<div class="cards">{cards}</div>
<section><h2>Files per day by outcome</h2>{stacked_days_chart(data)}</section>
<div class="grid">
<section><h2>Throughput per {escape(data.throughput_unit)}</h2>{throughput_chart(data)}</section>
<section><h2>Top quarantine reasons</h2>{reasons_chart(data)}</section>
</div>
<section><h2>Latest problems</h2>{problems_html}</section>
<section><h2>Uploaders</h2>{uploaders_html}</section>
<footer>Generated {generated:%Y-%m-%d %H:%M} UTC by <code>scalper report</code> from the
result lines (one per file outcome), queried with DuckDB.</footer>
</main></body></html>
"""
