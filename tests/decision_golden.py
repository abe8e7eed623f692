"""Record the decisions gardefou takes on three fixed event sets, to prove a refactoring of the
decision layer changes none of them (``tests/test_decisions_golden.py`` compares).

The sets:

* ``demo``: the bundled demo stream (``gardefou/data/demo``) through the pipeline's processor and
  the default platform decider. The real models' signal results and request-intent verdicts are
  recorded once (``--record``) and replayed by the test, so the comparison is exact, fast and
  independent of the CPU; ``--record`` also keeps the real run's actions and reason codes, which
  the slow test checks with the real models.
* ``policy_cases``: the default policy's labelled cases (``gardefou policy test default``).
* ``bench``: the pipeline benchmark's event shape (``benchmarks/pipeline_bench.py``: posts,
  replies, text-only bot requests), in order and with replies delivered before their parents
  (late thread context), over benign colour squares whose signals come from a fixed table
  (portrait, sexualized edit of the same person, stranger, victim-bank copy, explicit, minor),
  decided cheap-first and eagerly.

    PYTHONPATH=src .venv/bin/python -m tests.decision_golden --record   # real models, ~20 s

writes ``tests/fixtures/decisions/golden.json``. Only the event ids, the decisions (action,
reasons, the rule trace with its details, DSA fields, unavailable signals) and case states are
kept: no image.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PIL import Image

from gardefou import testing as T
from gardefou.decide import PlatformDecider, services_for
from gardefou.pipeline.core import Processor
from gardefou.pipeline.runners import run_inline
from gardefou.pipeline.sources import iter_jsonl
from gardefou.policy import load_default_policy
from gardefou.signals.base import SignalResult
from gardefou.store import connect

GOLDEN = Path(__file__).parent / "fixtures" / "decisions" / "golden.json"
BANK_HEX = "f" * 64


# -- what is compared --------------------------------------------------------------------------


def summary(decision: Mapping[str, Any], full: bool = True) -> dict[str, Any]:
    """The parts of a stored decision (``Decision.to_dict()``) that must not change. Not
    ``full``: of the rule trace, the context entry (the facts and notes) and the rules that
    matched (the rest follows from the policy)."""
    trace = decision["rule_trace"]
    if not full:
        trace = trace[:1] + [t for t in trace[1:] if t["matched"]]
    return {
        "action": decision["action"],
        "reasons": [[r["code"], r.get("signal")] for r in decision["reasons"]],
        "trace": [[t["rule"], t["matched"], t.get("action"), t["detail"]] for t in trace],
        "dsa": decision.get("dsa_fields") or {},
        "categories": decision.get("categories") or [],
        "unavailable": decision.get("unavailable") or [],
        "policy": decision.get("policy"),
    }


def stored(db: Any, outcomes: list[Any], full: bool = True) -> dict[str, Any]:
    """Per event: its pipeline outcome and, when decided, the stored decision and case."""
    out: dict[str, Any] = {}
    for o in outcomes:
        key = o.event_id or f"line:{o.origin}"
        entry = out.setdefault(key, {"outcomes": []})
        entry["outcomes"].append([o.status, o.reason_code])
    for row in db.query("SELECT event_id, decision_json, case_id FROM decisions"):
        entry = out.setdefault(row["event_id"], {"outcomes": []})
        entry["decision"] = summary(json.loads(row["decision_json"]), full)
        case = db.query_one(
            "SELECT status, poster, requester FROM cases WHERE id = ?", (row["case_id"],)
        )
        entry["case"] = dict(case) if case is not None else None
    return dict(sorted(out.items()))


def _run(db: Any, decider: Any, stream: Path, full: bool = True) -> dict[str, Any]:
    outcomes: list[Any] = []
    run_inline(iter_jsonl([stream]), Processor(db, decider), outcomes.append)
    return stored(db, outcomes, full)


# -- recorded model outputs --------------------------------------------------------------------


def _rounded(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 6)
    if isinstance(x, list | tuple):
        return [_rounded(v) for v in x]
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    return x


def _result_to_json(r: Any) -> dict[str, Any]:
    """A SignalResult as JSON, floats to 6 digits (the replay reads these, not the originals)."""
    return _rounded(json.loads(json.dumps(r.to_dict(), default=float)))


class Recorder:
    """Wraps Services.extract and Services.intent, keeping what they answered."""

    def __init__(self) -> None:
        self.signals: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, Any] = {}

    def services(self, db: Any) -> Any:
        s = services_for(db)
        extract, intent = s.extract, s.intent

        def rec_extract(media: Any, names: Any) -> Any:
            got = extract(media, names)
            table = self.signals.setdefault(media.sha256, {})
            table.update({n: _result_to_json(r) for n, r in got.items()})
            return got

        def rec_intent(text: str) -> Any:
            got = intent(text)
            self.intents[text] = {
                k: getattr(got, k) for k in ("sexualizing", "score", "source", "explanation")
            }
            return got

        s.extract, s.intent = rec_extract, rec_intent
        return s


def replay_services(signals: Mapping[str, Any], intents: Mapping[str, Any]) -> Callable[..., Any]:
    def extract(media: Any, names: Any) -> dict[str, Any]:
        table = signals[media.sha256]
        return {n: SignalResult(**table[n]) for n in names if n in table}

    def intent(text: str) -> Any:
        return SimpleNamespace(**intents[text])

    return lambda db: services_for(db, extract=extract, intent=intent)


# -- the demo stream ---------------------------------------------------------------------------


def run_demo(work: Path, factory: Callable[[Any], Any] | None) -> dict[str, Any]:
    from gardefou.pipeline.demo import _load_bank

    db = connect(work / "demo.db")
    folder = resources.files("gardefou.data") / "demo"
    with resources.as_file(folder) as demo:
        _load_bank(db, json.loads((demo / "victim_bank.json").read_text(encoding="utf-8")))
        decided = _run(db, PlatformDecider(factory), demo / "events.jsonl")
    db.close()
    return decided


# -- the policy cases --------------------------------------------------------------------------


def policy_cases() -> list[dict[str, Any]]:
    import yaml

    from gardefou.cli.commands_policy import run_cases

    text = (resources.files("gardefou.policy") / "default_cases.yaml").read_text("utf-8")
    cases = yaml.safe_load(text)["cases"]
    return [
        {k: r[k] for k in ("name", "action", "reason", "matched", "undecided")}
        for r in run_cases(load_default_policy(), cases)
    ]


# -- the pipeline benchmark's event set ----------------------------------------------------------

ALICE, BOB, CARA = T.person_embedding(1), T.person_embedding(2), T.person_embedding(3)
#: the signals of each of the benchmark's "photos" (benign colour squares stand in for them)
PHOTOS: list[list[SignalResult]] = [
    [T.nudity("none", 0.97), T.faces(1), T.identity([ALICE])],
    [T.nudity("suggestive", 0.82), T.faces(1), T.identity([T.jitter(ALICE, 0.25)])],
    [T.nudity("suggestive", 0.8), T.faces(1), T.identity([BOB])],
    [T.nudity("none", 0.6), T.faces(0), T.pdq_dihedral(BANK_HEX)],
    [T.nudity("explicit", 0.9), T.faces(1), T.identity([CARA])],
    [T.nudity("suggestive", 0.7), T.faces(1), T.age(minor_risk=True), T.identity([BOB])],
    [T.nudity("none", 0.99), T.faces(0), T.provenance(ai_generated=True)],
    [T.nudity("explicit", 0.85), T.faces(1), T.identity([T.jitter(ALICE, 0.2, seed=3)])],
]


def bench_event(i: int, photo: str) -> dict[str, Any]:
    """``benchmarks/pipeline_bench.py``'s ``event``, with a generation every 7th event."""
    eid = f"b-{i:04d}"
    ev: dict[str, Any] = {"id": eid, "author": f"u{i % 97}", "created_at": "2026-01-05T10:00:00Z"}
    if i % 10 == 9:
        ev.update(text="@imgbot put her in a bikini", reply_to=f"b-{i - 1:04d}")
        return ev
    if i % 7 == 6:
        return {
            "id": eid,
            "kind": "generation",
            "requester": f"u{i % 97}",
            "request": "undress her" if i % 14 == 6 else "make the sky red",
            "input_media": [photo],
            "output_media": [f"p{(i + 1) % len(PHOTOS)}.png"],
            "created_at": "2026-01-05T10:00:00Z",
        }
    ev.update(text="photo of the day", media=[photo])
    if i % 5 == 1:
        ev["reply_to"] = f"b-{i - 1:04d}"
    if i % 10 == 0 and i:
        ev.update(author="imgbot", reply_to=f"b-{i - 1:04d}")  # the bot answers the request
    return ev


def bench_events(n: int = 60) -> list[dict[str, Any]]:
    events = [bench_event(i, f"p{(i * 3) % len(PHOTOS)}.png") for i in range(n)]
    # late thread context: every 11th reply arrives before the post it answers
    for i in range(11, n, 11):
        events[i - 1], events[i] = events[i], events[i - 1]
    return events


def _bench_images(folder: Path) -> dict[str, list[SignalResult]]:
    table = {}
    for i, signals in enumerate(PHOTOS):
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), (30 * i, 90, 200 - 20 * i)).save(buf, "PNG")
        (folder / f"p{i}.png").write_bytes(buf.getvalue())
        import hashlib

        table[hashlib.sha256(buf.getvalue()).hexdigest()] = signals
    return table


def run_bench(work: Path, lazy: bool, events: Iterable[dict[str, Any]] | None = None) -> Any:
    folder = work / ("lazy" if lazy else "eager")
    folder.mkdir()
    table = _bench_images(folder)

    def extract(media: Any, names: Any) -> dict[str, Any]:
        results = T.signal_set(*table[media.sha256])
        results.setdefault("pdq_dihedral", T.pdq_dihedral("0" * 64))
        return {k: v for k, v in results.items() if k in names}

    banks = T.FakeBankService(
        {BANK_HEX: [{"bank": "victims", "entry_id": 7, "distance": 0, "source": "submission"}]}
    )
    signals = {*T.POLICY_SIGNALS, "pdq_dihedral"}

    def factory(db: Any) -> Any:
        return services_for(
            db,
            policy=load_default_policy(signals=signals),
            extract=extract,
            banks=banks,
            intent=T.fake_intent,
            lazy=lazy,
            exempt_accounts=frozenset({"imgbot"}),
        )

    stream = folder / "events.jsonl"
    stream.write_text("".join(json.dumps(e) + "\n" for e in events or bench_events()))
    db = connect(folder / "bench.db")
    decided = _run(db, PlatformDecider(factory), stream, full=False)
    db.close()
    return decided


# -- recording ---------------------------------------------------------------------------------


def record() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "real").mkdir()
        rec = Recorder()
        real = run_demo(work / "real", rec.services)
        (work / "replay").mkdir()
        replayed = run_demo(work / "replay", replay_services(rec.signals, rec.intents))
        return {
            "demo": {
                "signals": rec.signals,
                "intents": rec.intents,
                "real": {
                    k: [
                        v.get("decision", {}).get("action"),
                        [r[0] for r in v.get("decision", {}).get("reasons", [])],
                    ]
                    for k, v in real.items()
                },
                "decisions": replayed,
            },
            "policy_cases": policy_cases(),
            "bench": {"lazy": run_bench(work, True), "eager": run_bench(work, False)},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--record", action="store_true", help=f"Run the real models and write {GOLDEN.name}."
    )
    if not parser.parse_args().record:
        parser.error("nothing to do: pass --record")
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
