"""`gardefou policy check|test|show`: validate a policy and run it against labelled cases.

A case file is YAML (a list, or a mapping with ``cases:``) or JSONL; each case is::

    name: bot answer to an undress request
    signals:                       # per signal: value, score, details, available
      nudity: {value: suggestive, score: 0.8}
      faces: {value: [{box: [0, 0, 9, 9], score: 0.9}], details: {count: 1}}
    context: {thread.bot_request: true}
    expect: remove                 # the action
    expect_reason: sexualizing_request_answered   # optional: the first reason's code
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from gardefou.cli.group import EXIT_VERIFY, cli, emit_json, open_store
from gardefou.decision import Action
from gardefou.errors import PolicyError


def _policy(path: str | None) -> Any:
    from gardefou.policy import load_default_policy, load_policy

    return load_policy(path) if path else load_default_policy()


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Labelled cases from YAML or JSONL; errors name the file and case."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read cases file {path}: {exc}") from None
    cases: Any
    if path.suffix == ".jsonl":
        cases = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    cases.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise PolicyError(f"{path}:{n}: invalid JSON: {exc.msg}") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{path}: invalid YAML: {exc}") from None
        cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list) or not cases:
        raise PolicyError(f"{path}: expected a non-empty list of cases (or 'cases:' list)")
    for i, c in enumerate(cases):
        name = c.get("name", f"case {i + 1}") if isinstance(c, dict) else f"case {i + 1}"
        if not isinstance(c, dict) or "expect" not in c:
            raise PolicyError(
                f"{path}: {name}: each case needs 'expect' (an action) and "
                "'signals' and/or 'context'"
            )
        try:
            Action(c["expect"])
        except ValueError:
            raise PolicyError(
                f"{path}: {name}: expect {c['expect']!r} is not an action; use one "
                f"of {', '.join(a.value for a in Action)}"
            ) from None
        if not isinstance(c.get("signals", {}), dict) or not isinstance(c.get("context", {}), dict):
            raise PolicyError(f"{path}: {name}: 'signals' and 'context' must be mappings")
    return cases


def run_cases(policy: Any, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from gardefou.policy import evaluate

    out = []
    for i, c in enumerate(cases):
        signals = {
            name: {"available": True, **(r if isinstance(r, dict) else {"value": r})}
            for name, r in (c.get("signals") or {}).items()
        }
        d = evaluate(policy, signals, c.get("context") or {})
        code = d.reasons[0].code if d.reasons else None
        ok = d.action == Action(c["expect"]) and (
            "expect_reason" not in c or c["expect_reason"] == code
        )
        out.append(
            {
                "name": c.get("name", f"case {i + 1}"),
                "ok": ok,
                "expect": c["expect"],
                "expect_reason": c.get("expect_reason"),
                "action": d.action.value,
                "reason": code,
                "matched": [t.rule for t in d.rule_trace if t.matched],
                "undecided": [t.rule for t in d.rule_trace if not t.matched and t.action],
            }
        )
    return out


@cli.group("policy")
def policy_group() -> None:
    """Check a policy file, or test it against labelled cases."""


@policy_group.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def policy_check(file: str | None, as_json: bool) -> None:
    """Validate FILE (default: the shipped NCII policy); line-numbered errors, exit 2."""
    p = _policy(file)
    summary = {
        "policy": p.ref,
        "source": p.source,
        "rules": [r.id for r in p.rules],
        "signals": p.required_signals(),
        "dsa_templates": sorted(p.dsa),
        "sanctions": [s.name for s in p.accountability.sanctions],
    }
    if as_json:
        emit_json({"ok": True, **summary})
        return
    click.echo(
        f"ok: {p.ref} ({len(p.rules)} rules; signals: "
        f"{', '.join(summary['signals']) or 'none'}; DSA templates: "
        f"{', '.join(summary['dsa_templates']) or 'none'})"
    )


def _policy_option(help: str) -> Any:
    """``--policy FILE``: the policy YAML a command applies instead of its default one."""
    return click.option(
        "--policy", "policy_file", type=click.Path(dir_okay=False), default=None, help=help
    )


@policy_group.command("test")
@click.argument("cases_file", type=click.Path(dir_okay=False))
@_policy_option("Policy YAML [default: the shipped NCII policy].")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every result.")
def policy_test(cases_file: str, policy_file: str | None, as_json: bool) -> None:
    """Run a policy against the labelled cases in CASES_FILE; exit 3 on any mismatch.

    `gardefou policy test default` runs the cases shipped with the default policy."""
    if cases_file == "default":
        from importlib import resources

        path = Path(str(resources.files("gardefou.policy").joinpath("default_cases.yaml")))
    else:
        path = Path(cases_file)
    p = _policy(policy_file)
    results = run_cases(p, load_cases(path))
    failed = [r for r in results if not r["ok"]]
    if as_json:
        emit_json(
            {
                "policy": p.ref,
                "cases": len(results),
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "results": results,
            }
        )
    else:
        for r in results:
            mark = "PASS" if r["ok"] else "FAIL"
            want = r["expect"] + (f" ({r['expect_reason']})" if r["expect_reason"] else "")
            click.echo(
                f"{mark}  {r['name']}: {r['action']} ({r['reason']})"
                + (
                    ""
                    if r["ok"]
                    else f", expected {want}; matched {', '.join(r['matched']) or 'none'}"
                )
            )
        click.echo(f"{len(results) - len(failed)}/{len(results)} cases pass under {p.ref}")
    if failed:
        raise SystemExit(EXIT_VERIFY)


@policy_group.command("show")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def policy_show(file: str | None) -> None:
    """Print the rules of FILE (default: the shipped policy): id, action, line, description."""
    p = _policy(file)
    click.echo(f"{p.ref}: {p.description.strip()}")
    for r in p.rules:
        click.echo(f"  {r.line:>4}  {r.action.value:<16} {r.id}: {r.description.strip()}")


@policy_group.command("explain")
@click.argument("event_id")
@click.option("--all-rules", is_flag=True, help="Also list the rules that did not match.")
@click.option("--json", "as_json", is_flag=True, help="The stored decision as JSON.")
@click.pass_context
def policy_explain(ctx: click.Context, event_id: str, all_rules: bool, as_json: bool) -> None:
    """Why EVENT_ID was decided as it was: action, reasons, context, rule trace, DSA fields."""
    from gardefou.decide import get_decision
    from gardefou.errors import NotFoundError

    stored = get_decision(open_store(ctx), event_id)
    if stored is None:
        raise NotFoundError(f"no decision stored for event {event_id!r} in this store")
    d = stored.decision
    if as_json:
        emit_json({"event_id": event_id, "case_id": stored.case_id, "decision": d.to_dict()})
        return
    click.echo(
        f"{event_id}: {d.action.value} under {d.policy}"
        + (f" (case {stored.case_id})" if stored.case_id else "")
    )
    for r in d.reasons:
        score = f" [{r.signal or 'score'} {r.score:.2f}]" if r.score is not None else ""
        click.echo(f"  reason  {r.code}: {r.message}{score}")
    if d.unavailable:
        click.echo(f"  unavailable signals: {', '.join(d.unavailable)}")
    for t in d.rule_trace:
        if t.rule == "context":
            click.echo(f"  context {t.detail}")
        elif t.matched or t.action or all_rules:
            state = "MATCH" if t.matched else ("UNDECIDED" if t.action else "no")
            click.echo(f"  {state:<9} {t.rule} -> {t.action or '-'}: {t.detail}")
    for k in ("decision_ground", "category", "category_specification", "content_type"):
        if k in d.dsa_fields:
            click.echo(f"  dsa     {k}: {d.dsa_fields[k]}")


@policy_group.command("standing")
@click.argument("account")
@_policy_option("Policy YAML whose sanction ladder applies [default: the built-in policy].")
@click.option("--json", "as_json", is_flag=True, help="Print the standing as JSON.")
@click.pass_context
def policy_standing(
    ctx: click.Context, account: str, policy_file: str | None, as_json: bool
) -> None:
    """An account's strike points (decayed), sanctions in force and the next threshold."""
    from gardefou.cases import CaseStore

    st = CaseStore(open_store(ctx), _policy(policy_file)).standing(account)
    if as_json:
        emit_json(st.to_dict())
        return
    click.echo(
        f"{account}: {st.points:.2f} points; in force: "
        f"{', '.join(st.restrictions) or 'nothing'}"
        + (f"; next: {st.next_sanction} at {st.next_at_points:g}" if st.next_sanction else "")
    )
    for s in st.strikes:
        click.echo(
            f"  strike  case {s.case_id} as {s.role}: {s.action} weight {s.weight:g} "
            f"({s.created_at})"
        )


@policy_group.command("retention")
@click.option(
    "--thread-days",
    type=click.IntRange(min=1),
    required=True,
    help="Delete thread facts (face embeddings, nudity levels) older than this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def policy_retention(ctx: click.Context, thread_days: int, as_json: bool) -> None:
    """Enforce retention of thread facts (biometric data): run it daily from cron."""
    from datetime import timedelta

    from gardefou.clock import utcnow
    from gardefou.thread import ThreadStore

    before = utcnow() - timedelta(days=thread_days)
    n = ThreadStore(open_store(ctx)).purge(before)
    if as_json:
        emit_json({"thread_posts_deleted": n, "before": before.isoformat(timespec="seconds")})
    else:
        click.echo(
            f"deleted thread facts of {n} post(s) created before "
            f"{before.isoformat(timespec='seconds')}"
        )
