"""`gardefou report dsa|transparency` and `gardefou measure`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gardefou.cli.group import cli, emit_json, open_store
from gardefou.cli.options import file_option, float_option, int_option
from gardefou.errors import ConfigError


def _jsonl(path: str) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{path}:{n}: not JSON ({exc.msg})") from None
    return rows


@cli.group("report")
def report() -> None:
    """Reports for regulators: DSA statements of reasons, transparency report."""


@report.command("dsa")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="JSON array of statements (the API's format).")  # fmt: skip
@file_option(
    "--from",
    "source",
    default=None,
    help="JSONL of decision records instead of the store (see docs/reports.md).",
)
@click.option(
    "--batches",
    "batch_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write API request bodies of <= 100 statements to this folder.",
)
@click.option("--since", default=None, help="Decisions applied on/after (ISO date).")
@click.option("--until", default=None, help="Decisions applied before (ISO date).")
@click.option("--puid-secret", envvar="GARDEFOU_PUID_SECRET", default=None,
              help="HMAC secret turning internal ids into opaque puids.")  # fmt: skip
@click.option("--submit", "submit_url", default=None, metavar="BASE_URL",
              help="Also POST the batches to the Transparency Database at BASE_URL "
                   "(token in $GARDEFOU_DSA_TOKEN).")  # fmt: skip
@click.pass_context
def report_dsa(ctx: click.Context, out: str, source: str | None, batch_dir: str | None,
               since: str | None, until: str | None, puid_secret: str | None,
               submit_url: str | None) -> None:  # fmt: skip
    """Export restricting decisions as DSA statements of reasons, each one validated."""
    from gardefou.reports.dsa import statements_from_records, write_statements

    if source:
        records: list[Any] = _jsonl(source)
    else:
        from gardefou.reports.from_store import dsa_records

        records = dsa_records(open_store(ctx), since, until)
    statements = list(statements_from_records(records, puid_secret))
    info = write_statements(out, statements, batch_dir)
    if submit_url:
        import os

        from gardefou.reports.dsa_submit import submit

        result = submit(statements, submit_url, os.environ.get("GARDEFOU_DSA_TOKEN", ""))
        info["submitted"] = result.to_dict()
    emit_json(info)


@report.command("dsa-validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def report_dsa_validate(file: str) -> None:
    """Check statements made elsewhere: FILE is a JSON array, one statement, or an API batch
    body {"statements": [...]}. Prints every error by statement and field; exit 3 if any."""
    import sys

    from gardefou.cli.group import EXIT_VERIFY
    from gardefou.reports.dsa import personal_data_problems, validate

    data = json.loads(Path(file).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("statements", [data])
    bad = 0
    for i, s in enumerate(data):
        problems = validate(s) + (personal_data_problems(s) if isinstance(s, dict) else [])
        for p in problems:
            puid = s.get("puid") if isinstance(s, dict) else None
            emit_json({"statement": i, "puid": puid, "field": p.field, "error": p.message})
        bad += bool(problems)
    click.echo(f"{len(data) - bad} of {len(data)} statements valid", err=True)
    if bad:
        sys.exit(EXIT_VERIFY)


def _records_file(path: str) -> tuple[list[Any], list[Any], list[Any]]:
    from gardefou.reports.transparency import ActionRecord, AppealRecord, TakedownRecord

    data = json.loads(Path(path).read_text(encoding="utf-8"))

    def conv(cls: Any, rows: list[dict[str, Any]]) -> list[Any]:
        out = []
        for r in rows:
            kw = {k: (datetime.fromisoformat(v) if k.endswith("_at") and v else v)
                  for k, v in r.items()}  # fmt: skip
            out.append(cls(**kw))
        return out

    return (conv(ActionRecord, data.get("actions", [])),
            conv(TakedownRecord, data.get("takedowns", [])),
            conv(AppealRecord, data.get("appeals", [])))  # fmt: skip


@report.command("transparency")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for index.html, the CSV files and the plots.")  # fmt: skip
@file_option("--from", "source", default=None,
             help="JSON {actions, takedowns, appeals} records instead of the store.")  # fmt: skip
@click.option("--since", default=None, help="From (ISO date, inclusive).")
@click.option("--until", default=None, help="To (ISO date, exclusive).")
@click.option(
    "--title", default="Transparency report", show_default=True, help="Title of the HTML report."
)
@click.pass_context
def report_transparency(ctx: click.Context, out: str, source: str | None, since: str | None,
                        until: str | None, title: str) -> None:  # fmt: skip
    """Actions by category, proactive vs reported, time to action, takedown deadline
    compliance, appeals and reversals: HTML with plots, CSV beside it."""
    from gardefou.reports.transparency import build_report, write_report

    if source:
        actions, takedowns, appeals = _records_file(source)
    else:
        from gardefou.reports.from_store import transparency_records

        actions, takedowns, appeals = transparency_records(open_store(ctx), since, until)
    period = (since, until) if since and until else None
    rep = build_report(actions, takedowns, appeals, period=period)
    from gardefou.reports.transparency import no_nan

    summary = {k: no_nan(v) for k, v in rep.summary.items()}
    emit_json({**write_report(rep, out, title), "summary": summary})


@cli.command("measure")
@click.argument("sample", required=False, type=click.Path(exists=True, dir_okay=False))
@file_option("--population", default=None,
             help='JSONL {"hour": ..., "images": N}: images produced per hour.')  # fmt: skip
@int_option("--sample-per-hour", default=None,
            help="SAMPLE is the whole stream: draw N items per hour uniformly.")  # fmt: skip
@click.option("--sampling-fraction", type=float, default=None,
              help="Share of the stream that was sampled (instead of --population).")  # fmt: skip
@file_option(
    "--validation",
    default=None,
    help='JSONL {"truth": bool, "label": bool}: the classifier on labelled items.',
)
@click.option("--accuracy", default=None, metavar="TP,FN,TN,FP",
              help="Validation counts instead of --validation.")  # fmt: skip
@click.option("--from-store", is_flag=True, help="Measure the decisions stored in --db.")
@click.option(
    "--since", default=None, help="First hour counted (ISO, e.g. 2026-01-05T13), with --from-store."
)
@click.option(
    "--until",
    default=None,
    help="Hour at which counting stops (ISO, exclusive), with --from-store.",
)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write the hourly series with bands (PNG or SVG).")  # fmt: skip
@float_option(
    "--confidence", default=0.95, help="Confidence level of the intervals.", low=0.5, high=0.999
)
@int_option(
    "--boot",
    default=4000,
    help="Bootstrap draws for the intervals corrected by the classifier's accuracy.",
    low=200,
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.pass_context
def measure_cmd(ctx: click.Context, sample: str | None, population: str | None,
                sample_per_hour: int | None, sampling_fraction: float | None,
                validation: str | None, accuracy: str | None,
                from_store: bool, since: str | None, until: str | None, plot_path: str | None,
                confidence: float, boot: int, as_json: bool) -> None:  # fmt: skip
    """Prevalence of sexualized non-consensual images per hour and as a share of all images,
    from SAMPLE (JSONL {"hour": "2026-01-05T13", "label": true}) or the store."""
    from gardefou.reports.prevalence import Accuracy, measure, plot, samples_from_items

    if from_store == bool(sample):
        raise ConfigError("give either a SAMPLE file or --from-store")
    if from_store:
        from gardefou.reports.from_store import prevalence_samples

        samples = prevalence_samples(open_store(ctx), since, until)
    else:
        assert sample is not None
        pop = None
        if population:
            try:
                pop = {str(r["hour"])[:13]: int(r["images"]) for r in _jsonl(population)}
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{population}: each line needs 'hour' and 'images' ({exc})"
                                  ) from None  # fmt: skip
        samples = samples_from_items(_jsonl(sample), pop, sample_per_hour)
    acc = None
    if validation:
        try:
            acc = Accuracy.from_pairs((r["truth"], r["label"]) for r in _jsonl(validation))
        except KeyError as exc:
            raise ConfigError(f"{validation}: each line needs 'truth' and 'label' ({exc})"
                              ) from None  # fmt: skip
    elif accuracy:
        try:
            tp, fn, tn, fp = (int(x) for x in accuracy.split(","))
        except ValueError:
            raise ConfigError(f"--accuracy {accuracy!r}: expected TP,FN,TN,FP") from None
        acc = Accuracy(tp, fn, tn, fp)
    rep = measure(samples, acc, sampling_fraction, confidence, boot)
    if plot_path:
        plot(rep, plot_path)
    if as_json:
        emit_json(rep.to_dict())
        return
    pct = round(confidence * 100)
    s = rep.share
    click.echo(f"share of images: {s.estimate:.2%} ({pct}% CI {s.low:.2%} to {s.high:.2%})"
               f"{'' if acc else '  [not corrected: no --validation/--accuracy]'}")  # fmt: skip
    if rep.rate_per_hour is not None:
        r = rep.rate_per_hour
        click.echo(f"images per hour: {r.estimate:,.0f} ({pct}% CI {r.low:,.0f} to {r.high:,.0f})")
    if acc:
        click.echo(
            f"classifier sensitivity {acc.sensitivity:.3f}, specificity "
            f"{acc.specificity:.3f} (validation n={acc.tp + acc.fn + acc.tn + acc.fp})"
        )
    for note in rep.notes:
        click.echo(f"note: {note}")
    click.echo("hour           n    flagged  corrected share [CI]          count/hour [CI]")
    for h in rep.hours:
        c = h.corrected
        cnt = (f"{h.count.estimate:,.0f} [{h.count.low:,.0f}, {h.count.high:,.0f}]"
               if h.count else "-")  # fmt: skip
        click.echo(f"{h.hour}  {h.sampled:5d}  {h.positive:7d}  "
                   f"{c.estimate:6.1%} [{c.low:6.1%}, {c.high:6.1%}]   {cnt}")  # fmt: skip
