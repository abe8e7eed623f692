"""Transparency report: what was actioned, how it was found, how fast, and what was reversed.

Built from plain records (``ActionRecord``, ``TakedownRecord``, ``AppealRecord``), so any
platform can feed it; ``gardefou.reports.sources`` reads them from gardefou's own store. Writes
``index.html`` (tables and matplotlib plots, no scripts, no external assets) with one CSV per
table beside it, for regulators who want the numbers rather than the pictures.
"""

from __future__ import annotations

import csv
import html
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError
from gardefou.reports.stats import wilson

TAKEDOWN_DEADLINE_H = 48.0


@dataclass(frozen=True)
class ActionRecord:
    category: str  # e.g. ncii, minor, synthetic (or a DSA STATEMENT_CATEGORY_*)
    action: str  # remove, remove_escalate, label, refuse, ...
    detection: str  # "proactive" (found by scanning) or "reported" (a notice or request)
    detected_at: datetime
    actioned_at: datetime
    automated: bool = True  # decided without a human


@dataclass(frozen=True)
class TakedownRecord:
    kind: str  # take_it_down, regulator_notice
    received_at: datetime
    closed_at: datetime | None
    status: str  # received, in_review, removed, rejected, withdrawn
    copies_removed: int = 0
    deadline_hours: float = TAKEDOWN_DEADLINE_H


@dataclass(frozen=True)
class AppealRecord:
    filed_at: datetime
    decided_at: datetime | None
    status: str  # open, upheld, reversed
    category: str = ""


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


@dataclass
class TransparencyReport:
    period: tuple[str, str]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)


def build_report(actions: Iterable[ActionRecord], takedowns: Iterable[TakedownRecord] = (),
                 appeals: Iterable[AppealRecord] = (), period: tuple[str, str] | None = None,
                 now: datetime | None = None) -> TransparencyReport:  # fmt: skip
    acts, tds, aps = list(actions), list(takedowns), list(appeals)
    stamps = [a.actioned_at for a in acts] + [t.received_at for t in tds]
    if period is None:
        period = ((min(stamps).date().isoformat(), max(stamps).date().isoformat())
                  if stamps else ("", ""))  # fmt: skip
    rep = TransparencyReport(period)

    by_cat: dict[str, Counter[str]] = {}
    for a in acts:
        c = by_cat.setdefault(a.category, Counter())
        c["total"] += 1
        c[a.detection] += 1
        c["automated" if a.automated else "human"] += 1
        c[f"action:{a.action}"] += 1
    action_names = sorted({a.action for a in acts})
    rep.tables["actions_by_category"] = [
        {"category": cat, "total": c["total"], "proactive": c["proactive"],
         "reported": c["reported"], "automated": c["automated"], "human_decided": c["human"],
         **{a: c[f"action:{a}"] for a in action_names}}
        for cat, c in sorted(by_cat.items(), key=lambda kv: -kv[1]["total"])
    ]  # fmt: skip

    tta: dict[str, list[float]] = {"all": [], "proactive": [], "reported": []}
    for a in acts:
        h = max(0.0, _hours(a.detected_at, a.actioned_at))
        tta["all"].append(h)
        tta.setdefault(a.detection, []).append(h)
    rep.tables["time_to_action"] = [
        {"detection": k, "actions": len(v), "p50_hours": percentile(v, 50),
         "p90_hours": percentile(v, 90), "p99_hours": percentile(v, 99),
         "max_hours": max(v) if v else float("nan")}
        for k, v in tta.items()
    ]  # fmt: skip
    rep.series["time_to_action"] = tta

    if now is None and tds:
        now = datetime.now(tds[0].received_at.tzinfo)
    td_rows = []
    td_hours: list[float] = []
    for kind in sorted({t.kind for t in tds}):
        rows = [t for t in tds if t.kind == kind]
        removed = [t for t in rows if t.status == "removed" and t.closed_at is not None]
        in_time = [t for t in removed if _hours(t.received_at, t.closed_at) <= t.deadline_hours]  # type: ignore[arg-type]
        overdue_open = [t for t in rows if t.closed_at is None and now is not None
                        and _hours(t.received_at, now) > t.deadline_hours]  # fmt: skip
        hours = [_hours(t.received_at, t.closed_at) for t in removed]  # type: ignore[arg-type]
        if kind == "take_it_down":  # the plot shows the 48-hour clock of the Act
            td_hours += hours
        ci = wilson(len(in_time), len(removed)) if removed else None
        td_rows.append({
            "kind": kind, "requests": len(rows), "removed": len(removed),
            "rejected": sum(t.status == "rejected" for t in rows),
            "withdrawn": sum(t.status == "withdrawn" for t in rows),
            "open": sum(t.closed_at is None for t in rows),
            "removed_within_deadline": len(in_time),
            "compliance_rate": len(in_time) / len(removed) if removed else float("nan"),
            "compliance_ci_low": ci.low if ci else float("nan"),
            "compliance_ci_high": ci.high if ci else float("nan"),
            "open_past_deadline": len(overdue_open),
            "median_hours_to_removal": percentile(hours, 50),
            "p90_hours_to_removal": percentile(hours, 90),
            "copies_removed": sum(t.copies_removed for t in rows),
        })  # fmt: skip
    rep.tables["takedowns"] = td_rows
    rep.series["takedown_hours"] = td_hours

    decided = [a for a in aps if a.status in ("upheld", "reversed")]
    reversed_ = [a for a in decided if a.status == "reversed"]
    ci = wilson(len(reversed_), len(decided)) if decided else None
    ap_hours = [_hours(a.filed_at, a.decided_at) for a in decided if a.decided_at]
    rep.tables["appeals"] = [{
        "appeals": len(aps), "decided": len(decided), "open": len(aps) - len(decided),
        "upheld": len(decided) - len(reversed_), "reversed": len(reversed_),
        "reversal_rate": len(reversed_) / len(decided) if decided else float("nan"),
        "reversal_ci_low": ci.low if ci else float("nan"),
        "reversal_ci_high": ci.high if ci else float("nan"),
        "median_hours_to_decision": percentile(ap_hours, 50),
    }]  # fmt: skip
    rep.summary = {
        "period": f"{period[0]} to {period[1]}", "actions": len(acts),
        "proactive_share": (sum(a.detection == "proactive" for a in acts) / len(acts)
                            if acts else float("nan")),
        "takedown_requests": len(tds), "appeals": len(aps),
        "reversal_rate": rep.tables["appeals"][0]["reversal_rate"],
    }  # fmt: skip
    return rep


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.3g}" if abs(v) < 1 else f"{v:,.1f}"
    return html.escape(str(v))


def no_nan(v: Any) -> Any:
    """NaN (no data) as an empty CSV cell / JSON null rather than the invalid token NaN."""
    return None if isinstance(v, float) and math.isnan(v) else v


def _pct(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1%}"


def _plots(rep: TransparencyReport, out: Path) -> list[tuple[str, str]]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("the transparency report needs matplotlib: "
                          "`pip install 'gardefou[reports]'`") from None  # fmt: skip
    made: list[tuple[str, str]] = []

    @contextmanager
    def figure(name: str, title: str, caption: str) -> Iterator[Any]:
        """One chart: the caller draws on the axes, this titles, saves and closes it."""
        fig, ax = plt.subplots(figsize=(8, 3.5))
        yield ax
        ax.legend()
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        made.append((name, caption))

    rows = rep.tables["actions_by_category"]
    if rows:
        with figure("actions_by_category.png", "Actions by category and how the content was "
                    "found", "Actions by category, proactive vs reported") as ax:  # fmt: skip
            cats = [r["category"] for r in rows]
            ax.barh(cats, [r["proactive"] for r in rows], label="proactive")
            ax.barh(cats, [r["reported"] for r in rows], left=[r["proactive"] for r in rows],
                    label="reported")  # fmt: skip
            ax.set_xlabel("actions")
    tta = rep.series.get("time_to_action", {})
    if tta.get("all"):
        with figure("time_to_action.png", "Time to action (cumulative)",
                    "Time to action, cumulative share") as ax:  # fmt: skip
            for key in ("proactive", "reported"):
                v = sorted(tta.get(key, []))
                if v:
                    ys = [0.0] + [(i + 1) / len(v) for i in range(len(v))]
                    ax.step([0.0, *v], ys, where="post", label=f"{key} (n={len(v)})")
            ax.set_xscale("symlog", linthresh=0.01)
            ax.set_xlabel("hours from detection or notice to action")
            ax.set_ylabel("share actioned")
            ax.set_ylim(0, 1.05)
    td = rep.series.get("takedown_hours", [])
    if td:
        with figure("takedown_hours.png", "TAKE IT DOWN requests: time to removal (6-hour bins)",
                    "Takedown requests: hours to removal") as ax:  # fmt: skip
            top = max(max(td), TAKEDOWN_DEADLINE_H) + 6
            ax.hist(td, bins=[6 * i for i in range(int(top // 6) + 2)])
            ax.axvline(TAKEDOWN_DEADLINE_H, color="red", ls="--", label="48-hour deadline")
            ax.set_xlabel("hours from a valid request to removal")
            ax.set_ylabel("requests")
    return made


TITLES = {"actions_by_category": "Actions by category",
          "time_to_action": "Time to action (hours)",
          "takedowns": "Takedown requests and deadline compliance",
          "appeals": "Appeals and reversals"}  # fmt: skip


def write_report(rep: TransparencyReport, out_dir: str | os.PathLike[str],
                 title: str = "Transparency report") -> dict[str, Any]:  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, rows in rep.tables.items():
        path = out / f"{name}.csv"
        cols = list(dict.fromkeys(k for r in rows for k in r)) or ["(no data)"]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows([{k: no_nan(v) for k, v in r.items()} for r in rows])
        files.append(path.name)
    plots = _plots(rep, out)
    parts = [f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}"
             "</title><style>body{font:15px system-ui,sans-serif;max-width:60em;margin:2em auto;"
             "padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid "
             "#ccc;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:"
             "left}img{max-width:100%}</style>",
             f"<h1>{html.escape(title)}</h1><p>Period: {html.escape(rep.summary['period'])}. "
             f"{rep.summary['actions']} actions; {_pct(rep.summary['proactive_share'])} found "
             f"proactively; {rep.summary['takedown_requests']} takedown requests; "
             f"{rep.summary['appeals']} appeals.</p>"]  # fmt: skip
    for name, rows in rep.tables.items():
        parts.append(f"<h2>{TITLES.get(name, name)}</h2>")
        if not rows:
            parts.append("<p>No records in this period.</p>")
            continue
        cols = list(dict.fromkeys(k for r in rows for k in r))
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>")
        for r in rows:
            parts.append("<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in cols) + "</tr>")
        parts.append(f'</table><p><a href="{name}.csv">{name}.csv</a></p>')
    for fname, alt in plots:
        parts.append(f'<figure><img src="{fname}" alt="{html.escape(alt)}">'
                     f"<figcaption>{html.escape(alt)}</figcaption></figure>")  # fmt: skip
    parts.append("<p><small>Intervals are 95% Wilson score intervals. Times in hours.</small></p>")
    (out / "index.html").write_text("\n".join(parts) + "\n", encoding="utf-8")
    return {"out": str(out), "html": "index.html", "csv": files, "plots": [p for p, _ in plots]}
