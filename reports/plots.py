"""The plots of a run, as matplotlib figures: inlined as SVG in the HTML report, shown as they
are in a notebook, saved as PDF or PNG for a paper.

Figures are made with ``matplotlib.figure.Figure`` (not pyplot), so making them touches no
global state and they are freed when dropped. A plot whose data the run does not have is
``None`` and left out of the report.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from reports.kpis import evse_table, total_power_w
from reports.locust import load_plot
from reports.run import RunData

# Same data, same SVG bytes: fixed ids instead of random ones, no creation date.
mpl.rcParams["svg.hashsalt"] = "chargeloop"
WIDTH, HEIGHT = 7.5, 3.2
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def margins(figure: Figure, *, left: float = 0.75, right: float = 0.25, top: float = 0.35,
            bottom: float = 0.6, hspace: float | None = None) -> None:
    """Fixed margins in inches. Chosen over matplotlib's constrained layout, which draws each
    figure several times to fit it and made reports three times slower to render."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(left=left / width, right=1 - right / width,
                           top=1 - top / height, bottom=bottom / height, hspace=hspace)


def _figure(height: float = HEIGHT, *, right: float = 0.25) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH, height))
    margins(figure, right=right)
    return figure, figure.add_subplot()


def _times(run: RunData, seconds: pd.Series | np.ndarray) -> tuple[np.ndarray, str]:
    """Simulation seconds as UTC datetimes when the run has a start, else hours."""
    values = np.asarray(seconds, dtype=float)
    if run.start is not None:
        base = pd.Timestamp(run.start).tz_convert("UTC").tz_localize(None)
        return (base + pd.to_timedelta(values, unit="s")).to_numpy(), "time (UTC)"
    return values / 3600, "hours since start"


def site_power(run: RunData) -> Figure | None:
    """Delivered power over time, one step line per site (stations grouped by the visits'
    site; the total when sites are not known)."""
    power = run.table("power")
    if not len(power):
        return None
    sites = _station_sites(run)
    figure, axes = _figure()
    groups = power.groupby(power["station_id"].map(lambda s: sites.get(s, "all")))
    end = run.horizon_s or float(power["t_s"].max())
    for site, frame in sorted(groups, key=lambda item: str(item[0])):
        total = total_power_w(frame)
        t = np.concatenate([[0.0], total.index.to_numpy(float), [end]])
        w = np.concatenate([[0.0], total.to_numpy(float), [total.iloc[-1]]])
        x, label = _times(run, t)
        axes.step(x, w / 1000, where="post", label=str(site), linewidth=1.2)
    axes.set_ylabel("power (kW)")
    axes.set_xlabel(label)
    axes.set_title("Delivered power by site")
    axes.legend(loc="upper right", fontsize="small")
    axes.grid(alpha=0.3)
    _date_axis(figure, axes, run)
    return figure


def occupancy(run: RunData) -> Figure | None:
    """Mean share of EVSEs plugged in (in transaction when visits are not known), by weekday
    and hour of day."""
    horizon, start = run.horizon_s, run.start
    evses = len(evse_table(run))
    intervals = _occupied_intervals(run)
    if not horizon or start is None or not evses or intervals is None:
        return None
    minutes = int(np.ceil(horizon / 60))
    depth = np.zeros(minutes + 1)
    for a, b in zip(*intervals, strict=True):
        depth[int(a // 60)] += 1
        depth[min(int(b // 60), minutes)] -= 1
    busy = np.cumsum(depth)[:minutes] / evses * 100
    stamps = pd.Timestamp(start).tz_convert("UTC") + pd.to_timedelta(
        np.arange(minutes) * 60, unit="s")
    frame = pd.DataFrame({"weekday": stamps.day_of_week, "hour": stamps.hour, "busy": busy})
    grid = frame.pivot_table(index="weekday", columns="hour", values="busy", aggfunc="mean")
    grid = grid.reindex(columns=range(24))
    figure, axes = _figure(1.4 + 0.35 * len(grid), right=0.3)
    image = axes.imshow(grid.to_numpy(float), aspect="auto", cmap="viridis", vmin=0,
                        vmax=100)
    axes.set_yticks(range(len(grid)), [WEEKDAYS[d] for d in grid.index])
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlabel("hour of day (UTC)")
    axes.set_title("Occupancy: share of EVSEs in use")
    figure.colorbar(image, ax=axes, label="%", shrink=0.9)
    return figure


def soc(run: RunData) -> Figure | None:
    """State of charge when vehicles plug in and when they leave."""
    sessions = run.table("sessions")
    if not len(sessions) or "soc_start" not in sessions:
        return None
    arrive = sessions["soc_start"].dropna() * 100
    leave = sessions["soc_end"].dropna() * 100
    if not len(arrive) and not len(leave):
        return None
    figure, axes = _figure()
    bins = np.linspace(0, 100, 21)
    axes.hist([arrive, leave], bins=bins, label=["at arrival", "at departure"],
              color=["#d95f02", "#1b9e77"])
    axes.set_xlabel("state of charge (%)")
    axes.set_ylabel("sessions")
    axes.set_title("State of charge at arrival and departure")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3, axis="y")
    return figure


def latency(run: RunData) -> Figure | None:
    """How long CALLs waited for their answer."""
    messages = run.table("messages")
    values = messages["latency_ms"].dropna() if len(messages) else pd.Series(dtype=float)
    if not len(values):
        return None
    figure, axes = _figure()
    low = max(float(values.min()), 0.01)
    high = max(float(values.max()), low * 10)
    axes.hist(values.clip(lower=low), bins=np.geomspace(low, high, 40), color="#7570b3")
    axes.set_xscale("log")
    for q, style in ((50, "--"), (99, ":")):
        value = float(np.percentile(values, q))
        axes.axvline(value, color="black", linestyle=style, linewidth=1,
                     label=f"p{q} {value:.1f} ms")
    axes.set_xlabel("latency (ms, log scale)")
    axes.set_ylabel("messages")
    axes.set_title("OCPP answer latency")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3, axis="y")
    return figure


def message_rate(run: RunData) -> Figure | None:
    """CALLs per minute over the run, the busiest actions apart."""
    messages = run.table("messages")
    if not len(messages):
        return None
    end = run.horizon_s or float(messages["t_s"].max()) or 1.0
    width = _bin_width(end)
    edges = np.arange(0, end + width, width)
    top = messages["action"].value_counts().index[:5]
    figure, axes = _figure()
    names = [*top, "other"] if messages["action"].nunique() > len(top) else list(top)
    stacks = []
    for name in names:
        chosen = messages["t_s"][~messages["action"].isin(top)] if name == "other" \
            else messages["t_s"][messages["action"] == name]
        stacks.append(np.histogram(chosen, bins=edges)[0] / (width / 60))
    x, label = _times(run, edges[:-1])
    axes.stackplot(x, *stacks, labels=names, step="post", alpha=0.85)
    axes.set_ylabel("messages per minute")
    axes.set_xlabel(label)
    axes.set_title(f"OCPP message rate ({_duration(width)} bins)")
    axes.legend(loc="upper right", fontsize="x-small", ncols=2)
    axes.grid(alpha=0.3)
    _date_axis(figure, axes, run)
    return figure


def lateness(run: RunData) -> Figure | None:
    """How far the simulation clock fell behind the wall clock (paced and HIL runs): the
    ``lateness`` table (``t_s``, ``late_ms``) over time when the run has one, else the
    summary's percentiles."""
    table = run.table("lateness")
    if len(table) and {"t_s", "late_ms"} <= set(table.columns):
        figure, axes = _figure()
        x, label = _times(run, table["t_s"])
        axes.plot(x, table["late_ms"], linewidth=0.8, color="#e7298a")
        axes.set_xlabel(label)
        _date_axis(figure, axes, run)
    else:
        late = run.summary.get("lateness") or {}
        if not late.get("steps"):
            return None
        figure, axes = _figure(2.4)
        names = ["p50", "p99", "max"]
        values = [float(late[f"{n}_ms"]) for n in names]
        axes.barh(names, values, color="#e7298a")
        axes.set_xlabel("ms")
        for i, value in enumerate(values):
            axes.annotate(f"{value:.1f} ms", (value, i), xytext=(4, 0),
                          textcoords="offset points", va="center", fontsize="small")
    axes.set_ylabel("lateness (ms)")
    axes.set_title(f"Clock lateness ({late_steps(run)} steps)")
    axes.grid(alpha=0.3)
    return figure


def late_steps(run: RunData) -> str:
    steps = (run.summary.get("lateness") or {}).get("steps")
    return f"{int(steps):,}" if steps else "all"


PLOTS: dict[str, tuple[str, Callable[[RunData], Figure | None]]] = {
    "site_power": ("Site power over time", site_power),
    "occupancy": ("Occupancy by hour and weekday", occupancy),
    "soc": ("State of charge at arrival and departure", soc),
    "latency": ("Latency histogram", latency),
    "message_rate": ("Message rate over time", message_rate),
    "lateness": ("Clock lateness", lateness),
    "load": ("Load test over time (locust)", load_plot),
}


def figures(run: RunData) -> dict[str, Figure]:
    """Every plot the run has data for, by name (see :data:`PLOTS`)."""
    out = {}
    for name, (_, make) in PLOTS.items():
        figure = make(run)
        if figure is not None:
            out[name] = figure
    return out


def svg(figure: Figure) -> str:
    """The figure as an inline ``<svg>`` element (text as paths: no fonts needed to view)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


# -- helpers ------------------------------------------------------------------------------


def _station_sites(run: RunData) -> dict[str, str]:
    visits = run.table("visits")
    if not len(visits) or "site_id" not in visits:
        return {}
    known = visits.dropna(subset=["station_id"])
    return dict(zip(known["station_id"], known["site_id"], strict=True))


def _occupied_intervals(run: RunData) -> tuple[np.ndarray, np.ndarray] | None:
    horizon = run.horizon_s or 0.0
    visits = run.table("visits")
    if len(visits) and "plugged_s" in visits:
        frame = visits.dropna(subset=["plugged_s"])
        start, end = frame["plugged_s"], frame["unplugged_s"]
    else:
        sessions = run.table("sessions")
        if not run.has("sessions"):
            return None
        start, end = sessions["started_s"], sessions["stopped_s"]
    a = start.clip(lower=0).to_numpy(float)
    b = end.fillna(horizon).clip(upper=horizon).to_numpy(float)
    keep = b > a
    return a[keep], b[keep]


def _bin_width(seconds: float) -> float:
    """A bin width giving at most about 120 bins over the run (readable bars)."""
    for width in (60, 300, 900, 3600, 4 * 3600, 86400):
        if seconds / width <= 120:
            return float(width)
    return 7 * 86400.0


def _duration(seconds: float) -> str:
    delta = timedelta(seconds=seconds)
    if delta >= timedelta(days=1):
        return f"{delta.days} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min"


def _date_axis(figure: Figure, axes: object, run: RunData) -> None:
    if run.start is None:
        return
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)  # type: ignore[attr-defined]
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[attr-defined]
