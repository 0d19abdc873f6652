"""Report tables: the rows the page shows and the CSV exports, built once from the report
reader (`analytics.rollup_selectors.get_report`: the daily rollups, or live when they cannot
answer).

The page and `?format=csv&table=<name>` both call `build_table`, so an export always holds the
numbers on screen.
"""

from collections.abc import Callable
from dataclasses import dataclass

from analytics import selectors
from analytics.rollup_selectors import LiveReport, RollupReport, get_report
from analytics.selectors import ReportFilters
from tickets.models import ChannelKind, TicketStatus

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
SLA_TABLE_LIMIT = 50


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    header: list[str]
    rows: list[list]


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 1)


Report = LiveReport | RollupReport


def kpi_table(report: Report, summary: dict | None = None) -> Table:
    s = summary or report.summary()
    frt, res = s["first_response"], s["resolution"]
    rows = [
        ["Tickets created", s["tickets_created"]],
        ["First response, median (min)", minutes(frt["median_seconds"])],
        ["First response, p90 (min)", minutes(frt["p90_seconds"])],
        ["First response in business hours, median (min)", minutes(frt["business_median_seconds"])],
        ["First response in business hours, p90 (min)", minutes(frt["business_p90_seconds"])],
        ["Resolution, median (min)", minutes(res["median_seconds"])],
        ["Resolution, p90 (min)", minutes(res["p90_seconds"])],
        ["Tickets solved", s["reopens"]["solved"]],
        ["Reopen rate (%)", percent(s["reopens"]["rate"])],
        ["CSAT, % rating 4-5", percent(s["csat"]["score"])],
        ["CSAT response rate (%)", percent(s["csat"]["response_rate"])],
        ["SLA breaches", s["sla"]["breached"]],
        ["SLA breach rate (%)", percent(s["sla"]["rate"])],
        ["Backlog (unresolved now)", s["backlog"]],
    ]
    return Table("kpis", "Key figures", ["Metric", "Value"], rows)


def volume_table(report: Report) -> Table:
    counts = {(row["day"], row["channel"]): row["count"] for row in report.volume_by_day()}
    channels = ChannelKind.values
    rows = []
    for day in report.filters.days():
        per_channel = [counts.get((day, channel), 0) for channel in channels]
        rows.append([day.isoformat(), *per_channel, sum(per_channel)])
    header = ["Day", *[label for label in ChannelKind.labels], "Total"]
    return Table("volume", "Tickets created per day", header, rows)


def agents_table(report: Report) -> Table:
    rows = [
        [
            row["name"],
            row["assigned"],
            row["solved"],
            minutes(row["median_frt_seconds"]),
            row["csat_answered"],
            percent(row["csat_score"]),
        ]
        for row in report.agent_stats()
    ]
    header = [
        "Agent",
        "Assigned",
        "Solved",
        "First response, median (min)",
        "CSAT answers",
        "CSAT % 4-5",
    ]
    return Table("agents", "Agents", header, rows)


def backlog_table(report: Report) -> Table:
    labels = dict(TicketStatus.choices)
    rows = [[labels[row["status"]], row["count"]] for row in report.backlog_by_status()]
    return Table("backlog", "Backlog by status (now)", ["Status", "Tickets"], rows)


def sla_table(report: Report, *, limit: int | None = None) -> Table:
    rows = [
        [
            row["reference"],
            row["subject"],
            row["channel"],
            row["priority"],
            row["status"],
            row["due_at"],
            row["first_response_at"],
            row["resolved_at"],
            row["assignee_name"] or "",
        ]
        for row in selectors.list_sla_breaches(filters=report.filters, limit=limit)
    ]
    header = [
        "Ticket",
        "Subject",
        "Channel",
        "Priority",
        "Status",
        "Due",
        "First response",
        "Resolved",
        "Assignee",
    ]
    return Table("sla_breaches", "SLA breaches", header, rows)


def csat_answers_table(report: Report, *, limit: int | None = None) -> Table:
    rows = [
        [
            row["reference"],
            row["rating"],
            row["comment"],
            row["channel"],
            row["answered_at"],
            row["assignee_name"] or "",
        ]
        for row in selectors.list_csat_answers(filters=report.filters, limit=limit)
    ]
    header = ["Ticket", "Rating", "Comment", "Channel", "Answered", "Assignee"]
    return Table("csat_answers", "Survey answers (lowest first)", header, rows)


def order_remedies_table(report: Report) -> Table:
    rows = [
        [
            row["product"],
            row["reason"],
            row["reprints"],
            row["reprinted_items"],
            row["refunds"],
            f"{row['refunded']:.2f} {row['currency']}".strip(),
        ]
        for row in selectors.list_order_remedies(filters=report.filters)
    ]
    header = ["Product", "Reason", "Reprints", "Items reprinted", "Refunds", "Refunded"]
    return Table("order_remedies", "Reprints and refunds by product and reason", header, rows)


def heatmap_table(report: Report) -> Table:
    grid = report.busiest_hours()
    rows = [[WEEKDAYS[i], *counts] for i, counts in enumerate(grid)]
    return Table("heatmap", "Customer messages by hour", ["Day", *map(str, range(24))], rows)


TABLES: dict[str, Callable[[Report], Table]] = {
    "kpis": kpi_table,
    "volume": volume_table,
    "agents": agents_table,
    "backlog": backlog_table,
    "sla_breaches": sla_table,
    "csat_answers": csat_answers_table,
    "heatmap": heatmap_table,
    "order_remedies": order_remedies_table,
}


def build_table(name: str, *, filters: ReportFilters) -> Table:
    return TABLES[name](get_report(filters=filters))


def _heat_level(count: int, peak: int) -> int:
    return 0 if not count else max(1, round(4 * count / peak))


def build_report_page(*, filters: ReportFilters) -> dict:
    """Everything /analytics/ shows: KPI summary, tables, chart data and the heatmap grid."""
    report = get_report(filters=filters)
    summary = report.summary()
    volume = volume_table(report)
    backlog = backlog_table(report)
    heatmap = heatmap_table(report)
    peak = max((max(row[1:]) for row in heatmap.rows), default=0)
    channel_labels = volume.header[1:-1]
    charts = {
        "volume": {
            "labels": [row[0] for row in volume.rows],
            "datasets": [
                {"label": label, "data": [row[i + 1] for row in volume.rows]}
                for i, label in enumerate(channel_labels)
                if any(row[i + 1] for row in volume.rows)
            ],
        },
        "backlog": {
            "labels": [row[0] for row in backlog.rows],
            "data": [row[1] for row in backlog.rows],
        },
        "csat": {
            "labels": [str(n) for n in range(1, 6)],
            "data": [summary["csat"][f"rating_{n}"] for n in range(1, 6)],
        },
    }
    return {
        "filters": filters,
        "summary": summary,
        "source": report,
        "kpis": kpi_table(report, summary),
        "volume": volume,
        "backlog": backlog,
        "agents": agents_table(report),
        "sla": sla_table(report, limit=SLA_TABLE_LIMIT),
        "csat_answers": csat_answers_table(report, limit=SLA_TABLE_LIMIT),
        "order_remedies": order_remedies_table(report),
        "csat_note": f"The page lists at most {SLA_TABLE_LIMIT}; the CSV has them all.",
        "sla_note": (
            "Tickets due in this range that were answered or solved after their deadline, or "
            f"are still unresolved past it. The page lists at most {SLA_TABLE_LIMIT}; the CSV "
            "has them all."
        ),
        "heatmap": heatmap,
        "heat_rows": [
            (row[0], [(count, _heat_level(count, peak)) for count in row[1:]])
            for row in heatmap.rows
        ],
        "charts": charts,
        "table_names": list(TABLES),
    }
