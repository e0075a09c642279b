"""One self-contained HTML file per run (or per comparison, or per sweep): CSS and a few lines
of JavaScript inline, plots as inline SVG, nothing fetched from anywhere, so the file can be
mailed, attached to a CI job or opened years later.

Templates are Jinja2 with autoescaping (frames and reasons come from systems under test and
may hold anything); only the SVG the plots produce is inserted as markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

import chargeloop
from chargeloop.runs import REPORT, dumps_json
from reports import conformance, kpis, locust, plots
from reports.compare import Delta, Sweep, compare_runs, sweep, sweep_stats
from reports.run import RunData, load_run

MAX_SESSION_ROWS = 2000
MISSING = "\u2013"  # an en dash where a run has no value

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reports", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

KPI_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Sessions and energy", ("sessions", "sessions_completed", "energy_kwh")),
    ("Utilisation and power", ("utilisation_pct", "occupancy_pct", "peak_power_kw",
                               "average_power_kw", "average_charging_power_kw")),
    ("Waiting and queueing", ("visits", "visits_waited", "visits_abandoned", "mean_wait_min",
                              "p95_wait_min", "max_wait_min", "max_queue")),
    ("Revenue and notifications", ("payments_captured", "payments_declined",
                                   "notifications_sent")),
    ("OCPP messages and latency", ("ocpp_messages", "latency_p50_ms", "latency_p90_ms",
                                   "latency_p99_ms", "latency_max_ms")),
    ("Errors and alerts", ("message_errors", "alerts", "faulted_status", "faults_injected")),
    ("Clock lateness", ("lateness_p50_ms", "lateness_p99_ms", "lateness_max_ms")),
    ("Load test (locust)", ("load_requests", "load_failures", "load_failure_pct",
                            "load_requests_per_s", "load_p50_ms", "load_p95_ms", "load_p99_ms",
                            "load_max_ms")),
    ("Conformance cases", ("cases_passed", "cases_failed", "cases_not_applicable",
                           "cases_not_implemented", "cases_not_run")),
)


# -- cells and tables --------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    sort: str = ""
    css: str = ""
    href: str = ""


@dataclass
class TableView:
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    total: int = 0


def number(value: Any, digits: int = 2) -> str:
    """A figure for people: thousands separated, at most ``digits`` decimals, no trailing
    zeros on whole numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (float(value).is_integer() and digits == 0):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def _cell(value: Any) -> Cell:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return Cell("", "")
    if isinstance(value, pd.Timestamp):
        return Cell(value.strftime("%Y-%m-%d %H:%M:%S"), value.isoformat())
    if isinstance(value, bool):
        return Cell("yes" if value else "no", str(int(value)))
    if isinstance(value, int):
        return Cell(f"{value:,}", str(value))
    if isinstance(value, float):
        text = f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:g}"
        return Cell(text, repr(value))
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return Cell(", ".join(str(v) for v in items))
    return Cell(str(value))


def table_view(frame: pd.DataFrame, limit: int | None = None) -> TableView:
    shown = frame if limit is None else frame.head(limit)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
        frame[c]) for c in frame.columns]
    rows = [[_cell(v.item() if hasattr(v, "item") and not isinstance(v, pd.Timestamp) else v)
             for v in row] for row in shown.itertuples(index=False, name=None)]
    return TableView([str(c) for c in frame.columns], rows, numeric, len(frame))


# -- one run -----------------------------------------------------------------------------------


def kpi_cards(figures: dict[str, float | int]) -> list[tuple[str, list[dict[str, str]]]]:
    groups = []
    placed: set[str] = set()
    for title, keys in KPI_GROUPS:
        chosen = [k for k in keys if k in figures]
        if title.startswith("Revenue"):
            chosen = [k for k in figures if k.startswith(kpis.REVENUE_PREFIX)] + chosen
        placed |= set(chosen)
        if chosen:
            groups.append((title, [_card(k, figures[k]) for k in chosen]))
    rest = [k for k in figures if k not in placed]
    if rest:
        groups.append(("Other", [_card(k, figures[k]) for k in rest]))
    return groups


def _card(key: str, value: float | int) -> dict[str, str]:
    spec = kpis.spec(key)
    return {"key": key, "label": spec.label, "unit": spec.unit,
            "text": number(value, spec.digits)}


def render_run(run: RunData) -> str:
    """The report of one run, as HTML text."""
    figures = kpis.run_kpis(run)
    context: dict[str, Any] = {
        "run": run, "version": chargeloop.__version__, "facts": _facts(run),
        "verdicts": None, "profiles": None, "cases": None, "case_traces": [],
        "traced": False, "kpi_groups": kpi_cards(figures), "tables": _tables(run),
        "plots": _plots(run), "verdict_text": _verdict_text(run),
        "manifest_text": dumps_json(run.manifest).decode(),
        "summary_text": _summary_text(run),
    }
    if run.verdicts:
        context["verdicts"] = _verdict_view(run.verdicts)
    if run.kind == "conformance" and isinstance(run.summary.get("cases"), list):
        rows = conformance.profile_rows(run)
        view = table_view(pd.DataFrame(rows))
        _colour(view, "verdict")
        context["profiles"] = view
        cases = conformance.case_views(run)
        context["case_traces"] = cases
        context["traced"] = any(c.traced for c in cases)
        context["cases"] = _case_table(cases)
    sections = [("expectations", "Expectations") if context["verdicts"] else None,
                ("profiles", "Profiles") if context["profiles"] else None,
                ("kpis", "Key figures") if figures else None,
                ("plots", "Plots") if context["plots"] else None,
                *[(anchor, title) for anchor, title, _, _ in context["tables"]],
                ("cases", "Cases") if context["cases"] else None, ("files", "Run folder")]
    context["sections"] = [s for s in sections if s]
    return _ENV.get_template("run.html.j2").render(context)


def write_report(folder: Path | str, out: Path | str | None = None) -> Path:
    """Render a run folder's report into ``report.html`` in the folder (or ``out``)."""
    run = load_run(folder)
    target = Path(out) if out is not None else Path(folder) / REPORT
    write_html(target, render_run(run))
    return target


def _summary_text(run: RunData) -> str:
    """summary.json as written, less the case list a conformance report already shows."""
    shown = {k: v for k, v in run.summary.items() if not (k == "cases" and run.kind ==
                                                          "conformance")}
    return dumps_json(shown).decode()


def _facts(run: RunData) -> list[tuple[str, str]]:
    manifest = run.manifest
    facts = []
    for key, label in (("created_at", "made"), ("seed", "seed"), ("start", "simulated from"),
                       ("duration_s", "for"), ("stations", "stations"), ("version", "OCPP"),
                       ("sut", "system under test"), ("backend", "backend"),
                       ("chargeloop_version", "chargeloop")):
        value = manifest.get(key)
        if value is None or value == "":
            continue
        if key == "duration_s":
            value = f"{float(value) / 3600:g} h"
        facts.append((label, str(value)))
    return facts


def _verdict_text(run: RunData) -> str:
    verdicts = run.verdicts
    if verdicts:
        held = sum(v.get("status") == "passed" for v in verdicts)
        return f"{held} of {len(verdicts)} expectations held"
    if run.kind == "conformance":
        s = run.summary
        return (f"{s.get('passed', 0)} passed, {s.get('failed', 0)} failed, "
                f"{s.get('not_implemented', 0)} not implemented")
    return {True: "passed", False: "failed", None: "no verdict"}[run.passed]


def _verdict_view(verdicts: list[dict[str, Any]]) -> TableView:
    frame = pd.DataFrame([{"expectation": v.get("kind"), "verdict": v.get("status"),
                           "expected": v.get("expected"), "observed": v.get("observed"),
                           "where": Path(str(v["location"])).name if v.get("location") else ""}
                          for v in verdicts])
    view = table_view(frame)
    _colour(view, "verdict")
    return view


def _colour(view: TableView, column: str) -> None:
    index = view.columns.index(column)
    for row in view.rows:
        row[index].css = row[index].text


def _case_table(cases: list[conformance.CaseView]) -> TableView:
    traced = any(c.traced for c in cases)
    frame = pd.DataFrame([{"case": c.case, "verdict": c.verdict, "title": c.title,
                           "profiles": ", ".join(c.profiles), "reason": c.reason,
                           "duration s": c.duration_s}
                          | ({"frames": c.frames_total} if traced else {}) for c in cases])
    view = table_view(frame)
    _colour(view, "verdict")
    for row, case in zip(view.rows, cases, strict=True):
        if case.traced:
            row[0].href = f"#{case.anchor}"
    return view


def _plots(run: RunData) -> list[dict[str, str]]:
    out = []
    for name, figure in plots.figures(run).items():
        out.append({"name": name, "caption": plots.PLOTS[name][0], "svg": plots.svg(figure)})
    return out


def _tables(run: RunData) -> list[tuple[str, str, TableView, str]]:
    tables: list[tuple[str, str, TableView, str]] = []

    def add(anchor: str, title: str, frame: pd.DataFrame, note: str = "",
            limit: int | None = None) -> None:
        if len(frame.columns):
            tables.append((anchor, title, table_view(frame, limit), note))

    if run.has("sessions") or run.has("status_changes"):
        add("stations", "Utilisation per station", kpis.station_table(run))
        add("evses", "Utilisation per EVSE", kpis.evse_table(run),
            "Utilisation: time in transaction over the run's length.")
    if run.has("visits"):
        add("visits", "Visits by outcome", kpis.count_by(run, "visits", ["outcome"]))
    if run.has("csms_payments") and len(run.table("csms_payments")):
        totals = kpis.revenue(run.table("csms_payments"))
        add("revenue", "Revenue per currency", pd.DataFrame(
            [{"currency": c, "captured less refunded": str(v)} for c, v in sorted(
                totals.items())]))
    if run.has("csms_notifications"):
        add("notifications", "Notifications by kind",
            kpis.count_by(run, "csms_notifications", ["kind", "state"]))
    if run.has("messages"):
        add("messages", "OCPP messages by action", kpis.messages_by_action(run),
            "direction out: CALLs the stations sent; in: CALLs the CSMS sent. Latency: until "
            "the answer arrived.")
    if run.has("csms_alerts"):
        add("alerts", "Alerts", kpis.count_by(run, "csms_alerts", ["kind", "severity", "state"]))
    if run.has("faults") and len(run.table("faults")):
        add("faults", "Faults injected", run.table("faults"))
    if run.has("sessions"):
        add("sessions", "Sessions", _sessions(run), limit=MAX_SESSION_ROWS)
    requests = locust.stats(run)
    if requests is not None:
        add("load-requests", "Load test requests (locust)", requests,
            "Response times in ms; the Aggregated row is over all requests.")
        errors = locust.failures(run)
        if errors is not None:
            add("load-failures", "Load test failures (locust)", errors)
    return tables


def _sessions(run: RunData) -> pd.DataFrame:
    sessions = run.table("sessions")
    if not len(sessions):
        return sessions
    frame = pd.DataFrame({
        "station": sessions["station_id"], "evse": sessions["evse_id"],
        "transaction": sessions["transaction_id"],
        "started (UTC)": sessions.get("started_utc", sessions["started_s"]),
        "minutes": ((sessions["stopped_s"] - sessions["started_s"]) / 60).round(1),
        "energy kWh": (sessions["energy_wh"] / 1000).round(3),
    })
    for column, label in (("vehicle_model", "vehicle"), ("soc_start", "SoC in %"),
                          ("soc_end", "SoC out %"), ("stop_reason", "stop reason")):
        if column in sessions:
            values = sessions[column]
            frame[label] = (values * 100).round(1) if column.startswith("soc") else values
    payments = run.table("csms_payments")
    if len(payments) and {"station_id", "transaction_id", "captured"} <= set(payments):
        paid = payments.dropna(subset=["transaction_id"]).drop_duplicates(
            ["station_id", "transaction_id"], keep="last")
        cost = dict(zip(zip(paid["station_id"], paid["transaction_id"], strict=True),
                        paid["captured"], strict=True))
        frame["paid"] = [cost.get(key) for key in zip(
            sessions["station_id"], sessions["transaction_id"], strict=True)]
    return frame


# -- two runs ----------------------------------------------------------------------------------


def render_comparison(a: RunData, b: RunData) -> str:
    """A vs B: each KPI's values, the change, and whether it is better or worse."""
    deltas = compare_runs(a, b)
    plots_a, plots_b = {p["name"]: p for p in _plots(a)}, {p["name"]: p for p in _plots(b)}
    pairs = [(plots.PLOTS[name][0], plots_a.get(name), plots_b.get(name))
             for name in plots.PLOTS if name in plots_a or name in plots_b]
    context = {"a": a, "b": b, "version": chargeloop.__version__,
               "deltas": _delta_view(deltas), "pairs": pairs,
               "verdict_a": _verdict_text(a), "verdict_b": _verdict_text(b),
               "counts": _direction_counts(deltas)}
    return _ENV.get_template("compare.html.j2").render(context)


def _delta_view(deltas: Sequence[Delta]) -> TableView:
    view = TableView(["KPI", "unit", "A", "B", "change", "%", "", "direction"],
                     numeric=[False, False, True, True, True, True, False, False],
                     total=len(deltas))
    for d in deltas:
        digits = d.spec.digits
        change, pct = d.change, d.change_pct
        view.rows.append([
            Cell(d.spec.label), Cell(d.spec.unit),
            Cell(number(d.a, digits), "" if d.a is None else repr(d.a)),
            Cell(number(d.b, digits), "" if d.b is None else repr(d.b)),
            Cell(MISSING if change is None else f"{change:+,.{digits}f}",
                 "" if change is None else repr(change)),
            Cell(MISSING if pct is None else f"{pct:+.1f}", "" if pct is None else repr(pct)),
            Cell(d.arrow, css=d.direction.replace(" ", "_")),
            Cell(d.direction, css=d.direction.replace(" ", "_"))])
    return view


def _direction_counts(deltas: Iterable[Delta]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in deltas:
        counts[d.direction] = counts.get(d.direction, 0) + 1
    return counts


def write_comparison(a: Path | str, b: Path | str, out: Path | str) -> Path:
    target = Path(out)
    write_html(target, render_comparison(load_run(a), load_run(b)))
    return target


# -- many runs of one scenario -----------------------------------------------------------------


def render_sweep(runs: list[RunData]) -> str:
    result = sweep(runs)
    stats = sweep_stats(result)
    shown = result.table.copy()
    context = {"title": runs[0].title, "runs": runs, "version": chargeloop.__version__,
               "parameters": result.parameters, "table": table_view(shown),
               "stats": table_view(stats.round(4)) if len(stats) else None,
               "figure": plots.svg(sweep_figure(result)) if len(result.kpis) else "",
               "passed": int(sum(bool(r.passed) for r in runs))}
    return _ENV.get_template("sweep.html.j2").render(context)


PREFERRED_SWEEP_KPIS = ("energy_kwh", "utilisation_pct", "mean_wait_min", "latency_p99_ms",
                        "cases_failed", "peak_power_kw", "sessions")


def sweep_figure(result: Sweep) -> Any:
    """Up to four KPIs against the swept parameter (when there is one numeric parameter) or
    the run's position, with the mean as a dashed line."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    chosen = [k for k in PREFERRED_SWEEP_KPIS if k in result.kpis][:4] or result.kpis[:4]
    table = result.table
    numeric = [p for p in result.parameters if pd.api.types.is_numeric_dtype(table[p])]
    x_name = numeric[0] if len(numeric) == 1 else None
    x = table[x_name].to_numpy(float) if x_name else list(range(1, len(table) + 1))
    figure = Figure(figsize=(plots.WIDTH, 0.4 + 2.0 * ((len(chosen) + 1) // 2)))
    plots.margins(figure, top=0.3, bottom=0.45, hspace=0.6)
    figure.subplots_adjust(wspace=0.3)
    grid = figure.subplots((len(chosen) + 1) // 2, 2 if len(chosen) > 1 else 1, squeeze=False)
    for axes, key in zip(grid.flat, chosen, strict=False):
        values = table[key].to_numpy(float)
        axes.plot(x, values, "o", markersize=4)
        axes.axhline(float(pd.Series(values).mean()), linestyle="--", linewidth=1, color="grey")
        spec = kpis.spec(key)
        axes.set_title(f"{spec.label}" + (f" ({spec.unit})" if spec.unit else ""),
                       fontsize="small")
        axes.set_xlabel(x_name or "run", fontsize="small")
        axes.tick_params(labelsize="small")
        if x_name is None or all(float(v).is_integer() for v in x):
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # seeds, run numbers
        axes.grid(alpha=0.3)
    for axes in list(grid.flat)[len(chosen):]:
        axes.set_visible(False)
    return figure


def write_sweep(folders: list[Path | str], out: Path | str) -> Path:
    target = Path(out)
    write_html(target, render_sweep([load_run(f) for f in folders]))
    return target


def write_html(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
