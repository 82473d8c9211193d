"""The one table `make bench` prints at the end: every measure of issue 18 against its
baseline measured in the same run. Benchmarks add their rows with `record` before they
assert, so a missed target still shows in the table (and fails its test)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    measure: str
    baseline: str
    measured: str
    ratio: str
    target: str
    ok: bool | None  # None: shown for reference, no target


ROWS: list[Row] = []


def record(measure, baseline, measured, ratio, target, ok):
    ROWS.append(Row(measure, baseline, measured, ratio, target, ok))
    return ok


def skipped(measure, target, reason):
    ROWS.append(Row(measure, "—", f"skipped: {reason}", "—", target, None))


def render(rows=None):
    rows = ROWS if rows is None else rows
    header = ("measure", "baseline", "measured", "ratio", "target", "ok")
    cells = [header] + [(r.measure, r.baseline, r.measured, r.ratio, r.target,
                         "—" if r.ok is None else ("yes" if r.ok else "NO")) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths))
             for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)
