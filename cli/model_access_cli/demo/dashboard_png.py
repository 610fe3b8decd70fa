"""Draw the stack's CloudWatch dashboard from EMF log lines, as a PNG, without AWS.

The widgets are `model_access.deploy.dashboard.dashboard_body`'s, the very list the stack deploys:
same titles, same metrics, same places on the 24-column grid. Each metric of a widget is
summed per period from the data points whose namespace, name and dimensions match it, as
CloudWatch would. CloudWatch's own metrics (AWS/Lambda, AWS/SQS) never appear in a
function's logs: their widgets are drawn with every series named and a note saying so.
The Logs Insights widget (top accounts by refusals and failures) is drawn as the table its
query gives over the JSON log lines among the lines (`top_accounts`: the same filter,
grouping and order), or says that the lines hold none (EMF lines alone, as the demo keeps).
matplotlib is a development dependency; without it `draw` raises `DrawingUnavailableError`.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from model_access.core.settings import DEFAULT_NAMESPACE, DEFAULT_QUEUE_NAME, DEFAULT_SERVICE
from model_access.deploy.dashboard import (
    GRID_WIDTH,
    TOP_ACCOUNTS_LIMIT,
    DashboardTargets,
    dashboard_body,
    top_accounts_outcomes,
)
from model_access_cli.demo.emf import Datapoint, parse_lines

CELL_WIDTH: Final = 0.75
CELL_HEIGHT: Final = 0.62
"""One unit of CloudWatch's dashboard grid (24 columns), in inches."""
HEADER: Final = 0.9
"""Inches above the grid for the dashboard's title."""
PAD: Final = {"left": 0.65, "right": 0.15, "top": 0.4, "bottom": 0.55}
"""Inches inside a widget's cell around its plot: axis labels below and left, title above."""
PLOT_SHARE: Final = 0.6
"""Part of a widget's width for the plot; the legend (every series, with its total) gets
the rest."""
MAX_BUCKETS: Final = 30


class DrawingUnavailableError(RuntimeError):
    """matplotlib is not installed."""


@dataclass(frozen=True)
class MetricRef:
    """One entry of a widget's `metrics` array: [namespace, name, dim, value, ..., {options}]."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    label: str

    @classmethod
    def parse(cls, entry: Sequence[Any]) -> MetricRef:
        options = entry[-1] if entry and isinstance(entry[-1], dict) else {}
        plain = [str(part) for part in (entry[:-1] if options else entry)]
        namespace, name, *pairs = plain
        dimensions = tuple(zip(pairs[0::2], pairs[1::2], strict=True))
        return cls(namespace, name, tuple(sorted(dimensions)), str(options.get("label", name)))

    def matches(self, point: Datapoint) -> bool:
        return (point.namespace == self.namespace and point.name == self.name
                and tuple(sorted(point.dimensions)) == self.dimensions)


@dataclass(frozen=True)
class DrawnWidget:
    """What one panel of the PNG shows: its title, every series, and which had data."""

    title: str
    series: tuple[str, ...]
    with_data: tuple[str, ...]


def default_targets(points: Sequence[Datapoint], name_prefix: str = "model-access",
                    region: str = "us-east-1") -> DashboardTargets:
    """The stack's default names; namespace and service as the logs have them, if they agree."""
    namespaces = {p.namespace for p in points if p.namespace != "AWS"}
    services = {v for p in points for k, v in p.dimensions if k == "service"}
    return DashboardTargets(
        region=region,
        namespace=namespaces.pop() if len(namespaces) == 1 else DEFAULT_NAMESPACE,
        service=services.pop() if len(services) == 1 else DEFAULT_SERVICE,
        provisioner_function=f"{name_prefix}-provisioner",
        backfill_function=f"{name_prefix}-backfill",
        queue_name=DEFAULT_QUEUE_NAME,
        dlq_name=f"{DEFAULT_QUEUE_NAME}-dlq",
    )


def _period_seconds(points: Sequence[Datapoint], widget_period: int) -> int:
    """The widget's period, or a shorter one when the logs cover only a few minutes."""
    if not points:
        return widget_period
    span = (max(p.timestamp_ms for p in points) - min(p.timestamp_ms for p in points)) / 1000
    if span >= 2 * widget_period:
        return widget_period
    return max(1, math.ceil(span / MAX_BUCKETS))


def _series(points: Sequence[Datapoint], ref: MetricRef, start_ms: int,
            period: int) -> dict[int, float]:
    buckets: dict[int, float] = defaultdict(float)
    for point in points:
        if ref.matches(point):
            buckets[(point.timestamp_ms - start_ms) // (period * 1000)] += point.value
    return dict(buckets)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise DrawingUnavailableError(
            "drawing the dashboard needs matplotlib (a development dependency: "
            "pip install 'model-access[dev]')") from exc
    return plt


TABLE_COLUMNS: Final = ("account", "outcome", "records")


def log_records(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The JSON log lines among `lines` (a line may start with what `aws logs tail` puts
    before the JSON); EMF-only lines are records too, without `account`."""
    records = []
    for line in lines:
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def top_accounts(records: Iterable[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """What the widget's Logs Insights query answers: lines with an account and a refusal
    or failure outcome, counted per (account, outcome), largest first, at most 20."""
    wanted = set(top_accounts_outcomes())
    counts: Counter[tuple[str, str]] = Counter(
        (str(r["account"]), str(r["outcome"])) for r in records
        if r.get("account") and r.get("outcome") in wanted)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(account, outcome, n) for (account, outcome), n in ranked[:TOP_ACCOUNTS_LIMIT]]


def draw(body: dict[str, Any], points: Sequence[Datapoint], out: Path,
         title: str, records: Sequence[dict[str, Any]] = ()) -> list[DrawnWidget]:
    """Write the dashboard `body` as a PNG at `out`; say what each panel shows."""
    plt = _pyplot()
    widgets = body["widgets"]
    rows = max(w["y"] + w["height"] for w in widgets)
    width, height = GRID_WIDTH * CELL_WIDTH, rows * CELL_HEIGHT + HEADER
    figure = plt.figure(figsize=(width, height), dpi=100)
    start_ms = min((p.timestamp_ms for p in points), default=0)
    drawn = []
    for widget in widgets:
        left, top = widget["x"] * CELL_WIDTH, HEADER + widget["y"] * CELL_HEIGHT
        cell_w, cell_h = widget["width"] * CELL_WIDTH, widget["height"] * CELL_HEIGHT
        plot_w = cell_w * PLOT_SHARE - PAD["left"] - PAD["right"]
        plot_h = cell_h - PAD["top"] - PAD["bottom"]
        bottom = height - top - cell_h + PAD["bottom"]
        ax = figure.add_axes((( left + PAD["left"]) / width, bottom / height,
                              plot_w / width, plot_h / height))
        legend_left = left + cell_w * PLOT_SHARE
        legend_ax = figure.add_axes((legend_left / width, bottom / height,
                                     (cell_w * (1 - PLOT_SHARE) - PAD["right"]) / width,
                                     plot_h / height))
        if widget["type"] == "log":
            drawn.append(_table_panel(ax, legend_ax, widget["properties"], records))
        else:
            drawn.append(_panel(ax, legend_ax, widget["properties"], points, start_ms))
    stamp = (datetime.fromtimestamp(start_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
             if points else "no data")
    figure.suptitle(f"{title}: the stack's CloudWatch dashboard, drawn from {len(points)} "
                    f"EMF data points starting {stamp}", fontsize=13, fontweight="bold",
                    y=1 - 0.35 / height)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return drawn


def _panel(ax: Any, legend_ax: Any, props: dict[str, Any], points: Sequence[Datapoint],
           start_ms: int) -> DrawnWidget:
    refs = [MetricRef.parse(entry) for entry in props["metrics"]]
    relevant = [p for p in points if any(r.matches(p) for r in refs)]
    period = _period_seconds(points, int(props.get("period", 300)))
    ax.set_title(props["title"], fontsize=10, loc="left")
    legend_ax.axis("off")
    handles, labels, with_data = [], [], []
    for ref in refs:
        buckets = _series(relevant, ref, start_ms, period)
        total = sum(buckets.values())
        if buckets:
            xs = range(max(buckets) + 1)
            (line,) = ax.plot([x * period for x in xs], [buckets.get(x, 0.0) for x in xs],
                              marker="o", markersize=3, linewidth=1.4)
            with_data.append(ref.label)
        else:
            (line,) = ax.plot([], [], color="0.75", linewidth=1.4)
        handles.append(line)
        labels.append(f"{ref.label}: {total:g}" if buckets else f"{ref.label}: no data")
    if not relevant:
        namespaces = sorted({r.namespace for r in refs})
        note = (f"{', '.join(namespaces)}: CloudWatch's own metric,\nnot in the functions' logs"
                if all(n.startswith("AWS/") for n in namespaces) else "no data in these logs")
        ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes,
                fontsize=9, color="0.4")
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel(f"seconds from the first data point (period {period} s)", fontsize=8)
        ax.set_ylabel("sum per period", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    legend_ax.legend(handles, labels, loc="upper left", fontsize=9 if len(labels) <= 9 else 8,
                     frameon=False,
                     ncol=1 if len(labels) <= 9 else 2, handlelength=1.2,
                     columnspacing=0.8, borderaxespad=0)
    return DrawnWidget(props["title"], tuple(r.label for r in refs), tuple(with_data))


def _table_panel(ax: Any, legend_ax: Any, props: dict[str, Any],
                 records: Sequence[dict[str, Any]]) -> DrawnWidget:
    """A Logs Insights widget: its query's table over the log lines given."""
    rows = top_accounts(records)
    ax.set_title(props["title"], fontsize=10, loc="left")
    ax.axis("off")
    legend_ax.axis("off")
    if rows:
        table = ax.table(cellText=[list(map(str, row)) for row in rows],
                         colLabels=list(TABLE_COLUMNS), loc="upper left", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
    else:
        ax.text(0.5, 0.5, "CloudWatch Logs Insights query over the functions' log lines:\n"
                "no line with an account and a refusal or failure in these logs",
                ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4")
    legend_ax.text(0, 1, "query:\n" + props["query"].replace(" | ", "\n| "), va="top",
                   fontsize=6, family="monospace", wrap=True)
    return DrawnWidget(props["title"], TABLE_COLUMNS,
                       tuple(f"{account} {outcome}" for account, outcome, _ in rows))


def draw_from_lines(lines: Iterable[str], out: Path, *, targets: DashboardTargets | None = None,
                    title: str = "model-access") -> tuple[Path, list[DrawnWidget]]:
    """Parse EMF lines (and the JSON log lines, for the Logs Insights widget) and draw the
    stack's dashboard for them."""
    lines = list(lines)
    points = parse_lines(lines)
    targets = targets or default_targets(points)
    return out, draw(dashboard_body(targets), points, out, title, log_records(lines))


def draw_demo_dashboard(lines: Sequence[str], folder: Path) -> Path:
    """What `model-access demo` ends with: the EMF lines it captured (emf.log) and their
    dashboard (dashboard.png), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "emf.log"
    log.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    png, _ = draw_from_lines(lines, folder / "dashboard.png",
                             title="model-access demo dashboard")
    return png
