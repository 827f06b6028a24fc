"""`notecheck report`: one self-contained HTML file about a scan (charts are inline SVG from matplotlib; no script,
no stylesheet or font from elsewhere, so it opens offline and can be mailed around).

Everything is aggregated in the database (GROUP BY), so the report costs the same for ten thousand notes or ten
million. It shows ids, counts, office and staff names, never note text.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select

from notecheck.errors import InputError
from notecheck.report import ELEMENTS
from notecheck.scan.caseload import CONTACT_GAP_RULE, FOLLOW_UP_RULE
from notecheck.store import Database, FindingRow, InputErrorRow, NoteResult, Scan
from notecheck.store.results import GATE_SCAN_ID

KIND_COLORS = {"prohibited": "#c0392b", "pii": "#d68910", "quality": "#2471a3", "timeliness": "#7d3c98"}
DECISION_COLORS = {"block": "#c0392b", "warn": "#d68910", "allow": "#1e8449"}
TOP = 20


@dataclass
class ReportData:
    scan: Scan
    decisions: dict[str, int]
    input_errors: int
    error_reasons: list[tuple[str | None, str, int]]
    by_category: list[tuple[str, str, int]]
    by_office: dict[str, dict[str, int]]
    by_staff: dict[str, dict[str, int]]
    by_month: dict[str, dict[str, int]]
    timeliness_by_month: dict[str, dict[str, int]]
    elements: dict[str, int]
    top_rules: list[tuple[str, str, str, str, int]]
    late_by_office: dict[str, int]
    gaps_by_office: dict[str, int]


def write_report(db_url: str | Database | None, out: str, *, scan_id: str | None = None) -> str:
    db = db_url if isinstance(db_url, Database) else Database(db_url)
    try:
        data = collect(db, scan_id)
    finally:
        if not isinstance(db_url, Database):
            db.dispose()
    path = Path(out)
    try:
        path.write_text(render(data), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot write ({exc.strerror})", field="out") from None
    return str(path)


def _month(db: Database, column: Any) -> Any:
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def collect(db: Database, scan_id: str | None = None) -> ReportData:
    with db.session() as session:
        if scan_id is None:
            scan = session.scalars(
                select(Scan).where(Scan.id != GATE_SCAN_ID).order_by(Scan.started_at.desc(), Scan.id.desc()).limit(1)
            ).first()
            if scan is None:
                raise InputError("the database holds no scans; run `notecheck scan` first", field="scan")
        else:
            scan = session.get(Scan, scan_id)
            if scan is None:
                raise InputError(f"no scan {scan_id!r} in the database", field="scan")
        sid = scan.id
        decisions = dict(
            session.execute(
                select(NoteResult.decision, func.count()).where(NoteResult.scan_id == sid).group_by(NoteResult.decision)
            ).all()
        )
        input_errors = session.scalar(select(func.count()).where(InputErrorRow.scan_id == sid)) or 0
        error_reasons = [
            (field, re.sub(r"\d+", "N", reason), count)
            for field, reason, count in session.execute(
                select(InputErrorRow.field, InputErrorRow.reason, func.count())
                .where(InputErrorRow.scan_id == sid)
                .group_by(InputErrorRow.field, InputErrorRow.reason)
                .order_by(func.count().desc())
                .limit(200)
            ).all()
        ]
        merged: dict[tuple[str | None, str], int] = defaultdict(int)
        for field, reason, count in error_reasons:
            merged[(field, reason)] += count
        error_reasons = sorted(((f, r, c) for (f, r), c in merged.items()), key=lambda x: -x[2])[:TOP]
        by_category = [
            (kind, category, count)
            for kind, category, count in session.execute(
                select(FindingRow.kind, FindingRow.category, func.count())
                .where(FindingRow.scan_id == sid)
                .group_by(FindingRow.kind, FindingRow.category)
                .order_by(func.count().desc())
            ).all()
        ]

        def by(column: Any) -> dict[str, dict[str, int]]:
            table: dict[str, dict[str, int]] = defaultdict(dict)
            for key, kind, count in session.execute(
                select(column, FindingRow.kind, func.count())
                .where(FindingRow.scan_id == sid)
                .group_by(column, FindingRow.kind)
            ).all():
                table[key or "(none)"][kind] = count
            return dict(table)

        month = _month(db, func.coalesce(NoteResult.contact_date, NoteResult.entered_at, NoteResult.checked_at))
        by_month: dict[str, dict[str, int]] = defaultdict(dict)
        timeliness_by_month: dict[str, dict[str, int]] = defaultdict(dict)
        for key, kind, category, count in session.execute(
            select(month, FindingRow.kind, FindingRow.category, func.count())
            .join(NoteResult, NoteResult.id == FindingRow.note_pk)
            .where(FindingRow.scan_id == sid)
            .group_by(month, FindingRow.kind, FindingRow.category)
        ).all():
            key = key or "(no date)"
            by_month[key][kind] = by_month[key].get(kind, 0) + count
            if kind == "timeliness":
                timeliness_by_month[key][category] = count
        element_counts = session.execute(
            select(
                *[
                    func.sum(case((NoteResult.elements[name].as_boolean() == True, 1), else_=0))  # noqa: E712
                    for name in ELEMENTS
                ]
            ).where(NoteResult.scan_id == sid)
        ).one()
        top_rules = [
            tuple(row)
            for row in session.execute(
                select(FindingRow.rule, FindingRow.kind, FindingRow.category, FindingRow.severity, func.count())
                .where(FindingRow.scan_id == sid)
                .group_by(FindingRow.rule, FindingRow.kind, FindingRow.category, FindingRow.severity)
                .order_by(func.count().desc(), FindingRow.rule)
                .limit(TOP)
            ).all()
        ]

        def office_counts(condition: Any) -> dict[str, int]:
            return {
                office or "(none)": count
                for office, count in session.execute(
                    select(FindingRow.office, func.count())
                    .where(FindingRow.scan_id == sid, condition)
                    .group_by(FindingRow.office)
                ).all()
            }

        return ReportData(
            scan=scan,
            decisions={k: decisions.get(k, 0) for k in ("block", "warn", "allow")},
            input_errors=input_errors,
            error_reasons=error_reasons,
            by_category=by_category,
            by_office=by(FindingRow.office),
            by_staff=by(FindingRow.staff),
            by_month=dict(sorted(by_month.items())),
            timeliness_by_month=dict(sorted(timeliness_by_month.items())),
            elements={name: int(count or 0) for name, count in zip(ELEMENTS, element_counts, strict=True)},
            top_rules=top_rules,  # type: ignore[arg-type]
            late_by_office=office_counts(FindingRow.category == "late_entry"),
            gaps_by_office=office_counts(FindingRow.rule.in_((CONTACT_GAP_RULE, FOLLOW_UP_RULE))),
        )


# -- charts ------------------------------------------------------------------------------------------------------------
def _svg(fig: Any, salt: str) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)  # matplotlib's RDF credits
    return re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg class="chart" \1', svg, count=1)


def _figure(height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, height))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def stacked_bars(table: dict[str, dict[str, int]], keys: list[str], colors: dict[str, str], title: str, salt: str,
                 *, horizontal: bool = True, top: int = TOP) -> str:  # fmt: skip
    rows = sorted(table.items(), key=lambda kv: -sum(kv[1].values()))[:top] if horizontal else list(table.items())
    fig, ax = _figure(max(2.2, 0.32 * len(rows) + 1) if horizontal else 3.4)
    ax.set_title(title, loc="left", fontsize=11)
    if not rows:
        _empty(ax, "nothing to show")
        return _svg(fig, salt)
    labels = [label for label, _ in rows]
    positions = list(range(len(rows)))
    base = [0] * len(rows)
    for key in keys:
        values = [counts.get(key, 0) for _, counts in rows]
        if not any(values):
            continue
        if horizontal:
            ax.barh(positions, values, left=base, color=colors.get(key, "#888"), label=key)
        else:
            ax.bar(positions, values, bottom=base, color=colors.get(key, "#888"), label=key)
        base = [b + v for b, v in zip(base, values, strict=True)]
    if horizontal:
        ax.set_yticks(positions, labels, fontsize=8)
        ax.invert_yaxis()
    else:
        ax.set_xticks(positions, labels, fontsize=8, rotation=45, ha="right")
    ax.legend(fontsize=8, frameon=False, loc="lower right" if horizontal else "upper left")
    return _svg(fig, salt)


def simple_bars(items: list[tuple[str, float]], title: str, salt: str, *, color: str = "#2471a3",
                percent: bool = False) -> str:  # fmt: skip
    fig, ax = _figure(max(2.2, 0.32 * len(items) + 1))
    ax.set_title(title, loc="left", fontsize=11)
    if not items:
        _empty(ax, "nothing to show")
        return _svg(fig, salt)
    positions = list(range(len(items)))
    ax.barh(positions, [v for _, v in items], color=color)
    ax.set_yticks(positions, [label for label, _ in items], fontsize=8)
    ax.invert_yaxis()
    if percent:
        ax.set_xlim(0, 100)
        for y, (_, value) in enumerate(items):
            ax.text(value + 1, y, f"{value:.0f}%", va="center", fontsize=8)
    return _svg(fig, salt)


# -- page --------------------------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:980px;color:#222;
padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
.meta{color:#555} .cards{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;min-width:120px}
.card b{display:block;font-size:1.4rem} svg.chart{width:100%;height:auto;display:block;margin:.6rem 0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.block{color:#c0392b} .warn{color:#b9770e} .allow{color:#1e8449}
"""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p class='meta'>None.</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td class='n'>{v:,}</td>" if isinstance(v, int) else f"<td>{html.escape(str(v))}</td>" for v in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(data: ReportData) -> str:
    scan = data.scan
    notes = sum(data.decisions.values())
    kinds = list(KIND_COLORS)
    category_table: dict[str, dict[str, int]] = {}
    for kind, category, count in data.by_category:
        category_table.setdefault(category, {})[kind] = count
    completeness = [
        (name.replace("_", " "), 100.0 * data.elements[name] / notes if notes else 0.0) for name in ELEMENTS
    ]
    offices = sorted(set(data.late_by_office) | set(data.gaps_by_office))
    timeliness_office = {o: {"late_entry": data.late_by_office.get(o, 0), "contact_gap": data.gaps_by_office.get(o, 0)}
                         for o in offices}  # fmt: skip
    timeliness_colors = {"late_entry": "#7d3c98", "contact_gap": "#5d6d7e", "missed_follow_up": "#af7ac5"}
    charts = {
        "category": stacked_bars(category_table, kinds, KIND_COLORS, "Findings by category", "c1", top=60),
        "office": stacked_bars(data.by_office, kinds, KIND_COLORS, "Findings by office", "c2"),
        "staff": stacked_bars(data.by_staff, kinds, KIND_COLORS, f"Findings by staff member (top {TOP})", "c3"),
        "month": stacked_bars(data.by_month, kinds, KIND_COLORS, "Findings by month of contact", "c4",
                              horizontal=False),  # fmt: skip
        "elements": simple_bars(completeness, "Notes with each required element", "c5", percent=True),
        "timeliness_month": stacked_bars(data.timeliness_by_month, list(timeliness_colors), timeliness_colors,
                                         "Late entries, contact gaps and missed follow-ups by month", "c6",
                                         horizontal=False),  # fmt: skip
        "timeliness_office": stacked_bars(timeliness_office, ["late_entry", "contact_gap"], timeliness_colors,
                                          "Late entries and contact gaps (incl. follow-ups) by office", "c7"),
    }  # fmt: skip
    cards = "".join(
        f"<div class='card'><span class='{cls}'>{html.escape(label)}</span><b>{value:,}</b></div>"
        for label, value, cls in [
            ("notes checked", notes, ""),
            ("blocked", data.decisions["block"], "block"),
            ("warned", data.decisions["warn"], "warn"),
            ("allowed", data.decisions["allow"], "allow"),
            ("input errors", data.input_errors, ""),
        ]
    )
    finished = scan.finished_at.strftime("%Y-%m-%d %H:%M") if scan.finished_at else "not finished"
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rules = _table(["rule", "kind", "category", "severity", "findings"], [list(r) for r in data.top_rules])
    reasons = _table(["field", "reason", "rows"], [[f or "", r, c] for f, r, c in data.error_reasons])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>notecheck report: {html.escape(scan.id)}</title><style>{CSS}</style></head>
<body>
<h1>notecheck caseload and QA report</h1>
<p class="meta">Scan <b>{html.escape(scan.id)}</b> of {html.escape(scan.source)} with policy
<b>{html.escape(scan.policy)}</b>, checker {html.escape(scan.checker_version)}; status {html.escape(scan.status)},
started {scan.started_at:%Y-%m-%d %H:%M}, finished {finished}. Generated {generated}. Counts only: this report holds
no note text.</p>
<div class="cards">{cards}</div>
<h2 id="categories">Findings by category</h2>{charts["category"]}
<h2 id="offices">By office</h2>{charts["office"]}
<h2 id="staff">By staff member</h2>{charts["staff"]}
<h2 id="months">By month</h2>{charts["month"]}
<h2 id="elements">Element completeness</h2>{charts["elements"]}
<h2 id="timeliness">Late entries and contact gaps</h2>{charts["timeliness_month"]}{charts["timeliness_office"]}
<h2 id="rules">Top rules</h2>{rules}
<h2 id="input-errors">Input errors</h2>{reasons}
</body></html>
"""
