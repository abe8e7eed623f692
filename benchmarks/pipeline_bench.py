"""Pipeline throughput and latency with the full signal stack, and archive backfill rates.

Measures, on this machine:

  A. baseline: JPEG decode + PDQ per image, in this process, one core;
  B. embedded (SQLite, in-process), pinned to ONE core: sustained events/s, CPU ms per event,
     p50/p99 end-to-end latency (read -> decision committed), and the headroom over the January
     2026 flood (6,700 images/hour = 1.86/s);
  C. embedded local pool, 2 worker processes: events/s;
  D. Redis Streams + PostgreSQL, 1 and 2 consumer processes: events/s draining a backlog, and
     p50/p99 latency (pushed -> committed) for a backlog and for events arriving at the flood rate;
     the same paced latency for the embedded runner, as the baseline;
  E. archive backfill (full content stack): plain loop vs Ray actors on a local 2-node cluster
     (`ray start --head` + `ray start --address`, 1 CPU each).

Every worker runs its runtimes on one thread (OMP/onnxruntime: GARDEFOU_THREADS=1). Images are
BSDS500 photos from ../shared/data/photos (481x321; some show people); without that folder,
generated gradients (no faces, so the face-dependent models mostly idle: lower cost). The
default platform decider runs: signals of the default policy, identity, bank matching against a
1,000-entry bank, thread context, the policy, cases.

    .venv/bin/python benchmarks/pipeline_bench.py                    # all sections, a few minutes
    .venv/bin/python benchmarks/pipeline_bench.py --events 400 --paced 60 --ray-items 400
    .venv/bin/python benchmarks/pipeline_bench.py --skip-redis --skip-ray

D needs GARDEFOU_TEST_PG_URL and GARDEFOU_TEST_REDIS_URL (`eval "$(scripts/start-services.sh)"`).
The machine this was written on is shared with other busy processes: wall-clock figures move with
their load; CPU ms per event is the steadier figure, and the load average is printed.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GARDEFOU_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
#: the shared data sets: $GARDEFOU_SHARED or ../shared beside the clone (as the tests)
SHARED_ROOT = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "src"))

from gardefou.pipeline import Envelope, Processor  # noqa: E402
from gardefou.pipeline.deciders import default_decider  # noqa: E402
from gardefou.pipeline.runners import WorkerConfig, run_inline, run_pool  # noqa: E402
from gardefou.pipeline.sources import iter_jsonl  # noqa: E402
from gardefou.store import connect  # noqa: E402
from gardefou.testing.fake_pipeline import benign_jpeg  # noqa: E402

FLOOD_PER_S = 6700 / 3600
PHOTOS = SHARED_ROOT / "data" / "photos"


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def images(work: Path, n: int) -> list[Path]:
    found = sorted(PHOTOS.glob("*/*.jpg"))
    if found:
        return found[:n] if n <= len(found) else [found[i % len(found)] for i in range(n)]
    print(f"note: {PHOTOS} absent; using generated gradients (no faces: cheaper than photos)")
    out = []
    for i in range(min(n, 50)):
        p = work / f"gen{i}.jpg"
        p.write_bytes(benign_jpeg(i, 400))
        out.append(p)
    return [out[i % len(out)] for i in range(n)]


# The request posts of the flood: "@bot" + an edit asked of the photo replied to, drawn with a
# fixed seed from 13 x 16 x 8 combinations (English, French, Spanish, German, Portuguese; the
# flood's swimwear/underwear/undressing asks mixed with benign edits), so a run of a hundred
# requests repeats almost none and the intent check's memo of exact repeats cannot flatter it.
_ASKS = ("put her in", "change her clothes to", "make her wear", "dress him in",
         "edit her so she wears", "swap his outfit for", "now give her", "can you put them in",
         "mets-la en", "ponle", "zieh ihr an:", "coloca ela em",
         "replace the dress with")  # fmt: skip
_THINGS = ("a bikini", "a string bikini", "lingerie", "a see-through top", "nothing",
           "a red winter coat", "a wedding dress", "a football jersey", "a tuxedo",
           "a santa hat", "her underwear only", "a wet white t-shirt", "a business suit",
           "a raincoat and boots", "a micro bikini", "a school uniform")  # fmt: skip
_TAILS = ("", " pls", " lol", " and make it realistic", " in the same pose",
          ", keep the face", " 🔥", " at the beach")  # fmt: skip


def request_text(i: int, bot: str = "@imgbot", salt: str = "") -> str:
    """The i-th request post's text (a fixed seeded draw: the same for every run; ``salt``
    gives each measured pass its own draw)."""
    rng = random.Random(f"request-{salt}{i}")
    return f"{bot} {rng.choice(_ASKS)} {rng.choice(_THINGS)}{rng.choice(_TAILS)}"


def event(i: int, prefix: str, photo: Path) -> dict[str, object]:
    """A post with a photo; every 5th a reply to the previous post; every 10th a text-only reply
    asking the bot for an edit (the flood's shape: requests in reply threads)."""
    eid = f"{prefix}-{i:06d}"
    ev: dict[str, object] = {
        "id": eid,
        "author": f"u{i % 97}",
        "created_at": "2026-01-05T10:00:00Z",
    }
    if i % 10 == 9:
        ev.update(text=request_text(i), reply_to=f"{prefix}-{i - 1:06d}")
        return ev
    ev.update(text="photo of the day", media=[str(photo)])
    if i % 5 == 1:
        ev["reply_to"] = f"{prefix}-{i - 1:06d}"
    return ev


def write_stream(path: Path, n: int, prefix: str, photos: list[Path]) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps(event(i, prefix, photos[i % len(photos)])) + "\n")
    return path


def seed_bank(db_url: str, n: int = 1000) -> None:
    from gardefou.banks.service import BankService

    db = connect(db_url)
    banks = BankService(db)
    banks.create_bank("bench-victims", description="random hashes")
    rng = random.Random(7)
    banks.add_entries(
        "bench-victims",
        [{"pdq": f"{rng.getrandbits(256):064x}", "quality": 100} for _ in range(n)],
        source="submission",
    )
    db.close()


def paced(envs: Iterator[Envelope], rate: float) -> Iterator[Envelope]:
    start = time.time()
    for i, env in enumerate(envs):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        env.received_at = time.time()
        yield env


# -- sections ----------------------------------------------------------------------------------
def bench_baseline(photos: list[Path]) -> dict[str, float]:
    from gardefou.media import load_media
    from gardefou.signals.pdq_core import pdq_hash

    pdq_hash(load_media(photos[0]).rgb())  # warm: imports, compiled-code cache
    cpu = time.process_time()
    for p in photos[:60]:
        pdq_hash(load_media(p).rgb())
    return {"decode_pdq_cpu_ms": (time.process_time() - cpu) * 1000 / min(60, len(photos))}


def bench_embedded(work: Path, photos: list[Path], n: int) -> dict[str, float]:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    url = str(work / "embedded.db")
    seed_bank(url)
    db = connect(url)
    proc = Processor(db, default_decider())
    run_inline(iter_jsonl([write_stream(work / "warm.jsonl", 6, "warm", photos[::-1])]), proc)
    src = write_stream(work / "embedded.jsonl", n, "emb", photos)
    cpu = time.process_time()
    summary = run_inline(iter_jsonl([src]), proc)
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    db.close()
    rate = summary.total / summary.elapsed_s
    return {
        "events_per_s": rate,
        "cpu_ms_per_event": cpu_ms,
        "p50_ms": pct(summary.latencies_ms, 50),
        "p99_ms": pct(summary.latencies_ms, 99),
        "headroom_wall_x": rate / FLOOD_PER_S,
        "headroom_cpu_x": (1000 / cpu_ms) / FLOOD_PER_S,
        "dead_letters": summary.counts.get("dead_letter", 0),
    }


def bench_pool(work: Path, photos: list[Path], n: int, workers: int) -> dict[str, float]:
    url = str(work / "pool.db")
    seed_bank(url)
    warm = tuple(json.dumps(event(i, "warm", photos[-1 - i])).encode() for i in range(4))
    src = write_stream(work / "pool.jsonl", n, "pool", photos)
    summary = run_pool(iter_jsonl([src]), WorkerConfig(db_url=url, warmup=warm), workers=workers)
    return {
        "events_per_s": summary.total / summary.elapsed_s,
        "p50_ms": pct(summary.latencies_ms, 50),
        "p99_ms": pct(summary.latencies_ms, 99),
        "dead_letters": summary.counts.get("dead_letter", 0),
    }


def bench_embedded_paced(work: Path, photos: list[Path], n: int, rate: float) -> dict[str, float]:
    url = str(work / "paced.db")
    seed_bank(url)
    db = connect(url)
    proc = Processor(db, default_decider())
    run_inline(iter_jsonl([write_stream(work / "warm2.jsonl", 6, "warm", photos[::-1])]), proc)
    src = write_stream(work / "paced.jsonl", n, "paced", photos)
    summary = run_inline(paced(iter_jsonl([src]), rate), proc)
    db.close()
    return {"p50_ms": pct(summary.latencies_ms, 50), "p99_ms": pct(summary.latencies_ms, 99)}


# -- F: cheap-first signals vs eager, benign and flood-like mixes ---------------------------------
def forced_share(sha256: str, share: float) -> bool:
    """Deterministic choice of the images whose nudity result is replaced (by content hash)."""
    return int(sha256[:8], 16) / 0xFFFFFFFF < share


class BenchSignals:
    """The real signals (gardefou.scan.run_signals), counting runs and time per signal. For a
    ``share`` of the images (chosen by hash) the nudity model still runs, then its result is
    replaced by a recorded 'suggestive' result (score 0.8): no sexual imagery is used; every
    other signal runs for real on the real photo."""

    def __init__(self, share: float) -> None:
        self.share = share
        self.runs: dict[str, int] = {}
        self.ms: dict[str, float] = {}
        self.cpu_ms: dict[str, float] = {}
        self.images: set[str] = set()
        self.forced: set[str] = set()

    def __call__(self, media, names):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        from gardefou.scan import run_signals

        timings: dict[str, float] = {}
        out = {}
        for name in names:  # one at a time, in order: the CPU time of each signal on its own
            cpu = time.thread_time()
            out.update((r.name, r) for r in run_signals(media, [name], timings=timings))
            self.cpu_ms[name] = self.cpu_ms.get(name, 0.0) + (time.thread_time() - cpu) * 1000
        self.images.add(media.sha256)
        for n, ms in timings.items():
            self.runs[n] = self.runs.get(n, 0) + 1
            self.ms[n] = self.ms.get(n, 0.0) + ms
        r = out.get("nudity")
        if r is not None and r.available and forced_share(media.sha256, self.share):
            self.forced.add(media.sha256)
            out["nudity"] = replace(
                r,
                value="suggestive",
                score=0.8,
                explanation="recorded result (benchmark): suggestive",
                details={**dict(r.details or {}), "recorded": True},
            )
        return out


def bench_cheap_first(
    work: Path,
    photos: list[Path],
    n: int,
    share: float,
    lazy: bool,
    memory: bool = True,
    tag: str = "",
) -> dict[str, float]:
    import gardefou.decide.judge as decide_mod  # where the cheap-first plan reads it
    from gardefou.banks.service import BankService
    from gardefou.decide import PlatformDecider, Services

    real_memory = decide_mod.thread_memory_signals
    if not memory:  # what-if only: later replies could not be compared with these faces
        decide_mod.thread_memory_signals = lambda policy, deps: set()  # type: ignore[assignment]

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    tag = f"{tag}{'lazy' if lazy else 'eager'}{'' if memory else '-nomem'}-{int(share * 100)}"
    url = str(work / f"cheap-{tag}.db")
    seed_bank(url)
    db = connect(url)
    signals = BenchSignals(share)
    decider = PlatformDecider(
        lambda d: Services(d, banks=BankService(d), extract=signals, lazy=lazy)
    )
    proc = Processor(db, decider)
    # warm-up: enough images that every lazily loaded model (YuNet scans, second passes) is loaded
    warm = write_stream(work / f"warm-{tag}.jsonl", 24, f"w{tag}", photos[::-1])
    run_inline(iter_jsonl([warm]), proc)
    signals.runs.clear(), signals.ms.clear(), signals.images.clear(), signals.forced.clear()
    signals.cpu_ms.clear()
    src = write_stream(work / f"cheap-{tag}.jsonl", n, f"c{tag}", photos)
    cpu = time.process_time()
    summary = run_inline(iter_jsonl([src]), proc)
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    # each flood image answers a request post: measure those text-only events on their own
    reqs = work / f"req-{tag}.jsonl"
    with reqs.open("w") as fh:
        for i in range(100):
            parent = f"c{tag}-{(i * 7) % n:06d}"
            fh.write(
                json.dumps(
                    {
                        "id": f"r{tag}-{i:06d}",
                        "author": f"req{i % 31}",
                        "created_at": "2026-01-05T10:05:00Z",
                        "text": request_text(i, salt=tag),
                        "reply_to": parent,
                        "mentions": ["imgbot"],
                    }
                )
                + "\n"
            )
    # the intent classifier is shared by every decider of this process and remembers exact
    # repeats: forget what the warm-up and the earlier passes saw, so only repeats within this
    # pass's own 100 requests (drawn for this pass) are served from the memo
    from gardefou.decide.intent import _guard_classifier

    clf = _guard_classifier()
    with clf._memo_lock:
        clf._memo.clear()
    cpu = time.process_time()
    run_inline(iter_jsonl([reqs]), proc)
    req_ms = (time.process_time() - cpu) * 1000 / 100
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    decide_mod.thread_memory_signals = real_memory  # type: ignore[assignment]
    actions = dict(
        (r["action"], int(r["n"]))
        for r in db.query(
            "SELECT action, COUNT(*) AS n FROM decisions WHERE event_id LIKE ? GROUP BY action",
            (f"c{tag}-%",),
        )
    )
    db.close()
    imgs = sum(1 for i in range(n) if i % 10 != 9)
    image_ms = (cpu_ms * n - req_ms * (n - imgs)) / imgs
    out: dict[str, float] = {
        "cpu_ms_per_event": cpu_ms,
        "headroom_cpu_x": (1000 / cpu_ms) / FLOOD_PER_S,
        "cpu_ms_per_image_event": image_ms,
        "cpu_ms_per_request_event": req_ms,
        # the flood's unit: one image event plus the request post it answers
        "flood_headroom_cpu_x": (1000 / (image_ms + req_ms)) / FLOOD_PER_S,
        "events": n,
        "image_events": imgs,
        "forced_suggestive_share": len(signals.forced) / max(1, len(signals.images)),
        "dead_letters": summary.counts.get("dead_letter", 0),
    }
    for name in ("faces", "age", "identity", "nudity"):
        out[f"{name}_runs_per_image_event"] = signals.runs.get(name, 0) / max(1, imgs)
        out[f"{name}_wall_ms_per_image_event"] = signals.ms.get(name, 0.0) / max(1, imgs)
    # CPU per signal (this thread), every signal the events ran: where a slow core's time goes
    out["signal_cpu_ms_per_image_event"] = {  # type: ignore[assignment]
        k: round(v / max(1, imgs), 2) for k, v in sorted(signals.cpu_ms.items())
    }
    out["actions"] = actions  # type: ignore[assignment]
    return out


def face_photos(photos: list[Path]) -> list[Path]:
    """The photos in which the faces signal finds a face (a flood image shows its victim)."""
    from gardefou.media import load_media
    from gardefou.signals import get_signal

    faces = get_signal("faces")
    pool = sorted(PHOTOS.glob("*/*.jpg")) or list(dict.fromkeys(photos))
    return [p for p in pool if faces.detect(load_media(p))]  # type: ignore[attr-defined]


def resized(work: Path, photos: list[Path], side: int) -> list[Path]:
    """JPEG copies (quality 90) whose long side is ``side`` px: generator outputs are ~1024 px,
    and decoding, hashing and the watermark check grow with the pixels."""
    from PIL import Image

    out = []
    for p in dict.fromkeys(photos):
        dest = work / f"s{side}-{p.parent.name}-{p.name}"
        if not dest.exists():
            img = Image.open(p).convert("RGB")
            f = side / max(img.size)
            size = (round(img.width * f), round(img.height * f))
            img.resize(size, Image.Resampling.LANCZOS).save(dest, "JPEG", quality=90)
        out.append(dest)
    order = {p: i for i, p in enumerate(dict.fromkeys(photos))}
    return [out[order[p]] for p in photos]


def run_cheap_first(
    work: Path, photos: list[Path], n: int, share: float, mixes: list[str], side: int = 0
) -> dict[str, object]:
    res: dict[str, object] = {}
    with_faces = face_photos(photos) if "flood_faces" in mixes else []
    if side:
        photos, with_faces = resized(work, photos, side), resized(work, with_faces, side)
    plan = {
        "benign": (photos, 0.0),
        "flood": (photos, share),
        "flood_faces": (with_faces, 1.0),
    }
    for mix in mixes:
        imgs, s = plan[mix]
        if not imgs:
            print(f"F {mix}: no photo with a face found; skipped")
            continue
        if mix == "flood_faces":
            print(f"F flood_faces: {len(imgs)} photos with a face, every image forced suggestive")
        for lazy in (False, True):
            key = f"{mix}_{'cheap_first' if lazy else 'eager'}"
            res[key] = bench_cheap_first(work, imgs, n, s, lazy, tag=mix)
            print("F", key, res[key], flush=True)
        key = f"{mix}_no_thread_memory"
        res[key] = bench_cheap_first(work, imgs, n, s, lazy=True, memory=False, tag=mix)
        print("F", key, res[key], flush=True)
    return res


def _pg_schema(base: str) -> str:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def bench_streams(
    work: Path,
    photos: list[Path],
    n: int,
    n_paced: int,
    rate: float,
    workers: int,
    pg: str,
    redis_url: str,
) -> dict[str, float]:
    from gardefou.pipeline.streams import RedisStream

    url = _pg_schema(pg)
    seed_bank(url)
    rs = RedisStream(redis_url, f"gardefou:bench:{uuid.uuid4().hex[:8]}", "bench")
    db = connect(url)
    env = dict(os.environ)
    cmd = [
        sys.executable,
        "-c",
        "from gardefou.cli.main import main; main()",
        "--db",
        url,
        "stream",
        "work",
        "--redis",
        redis_url,
        "--stream",
        rs.stream,
        "--group",
        rs.group,
        "--batch",
        "8",
        "--block-ms",
        "200",
    ]
    procs = [
        subprocess.Popen(
            [*cmd, "--consumer", f"bench-{i}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]

    def wait_for(count: int, timeout: float = 900) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            row = db.query_one(
                "SELECT (SELECT COUNT(*) FROM pipeline_events)"
                " + (SELECT COUNT(*) FROM dead_letters) AS n"
            )
            if row and int(row["n"]) >= count:
                return
            time.sleep(0.05)
        raise TimeoutError(f"only {row} of {count} events decided")

    try:
        warm = write_stream(work / f"swarm{workers}.jsonl", 4 * workers, "warm", photos[::-1])
        rs.push_source(iter_jsonl([warm]))
        wait_for(4 * workers)
        src = write_stream(work / f"stream{workers}.jsonl", n, "burst", photos)
        t0 = time.time()
        rs.push_source(iter_jsonl([src]))
        wait_for(4 * workers + n)
        rows = db.query(
            "SELECT decided_at, latency_ms FROM pipeline_events WHERE event_id LIKE ?", ("burst-%",)
        )
        wall = max(r["decided_at"] for r in rows) - t0
        burst = [r["latency_ms"] for r in rows]
        src2 = write_stream(work / f"pstream{workers}.jsonl", n_paced, "paced", photos)
        for env_ in paced(iter_jsonl([src2]), rate):
            rs.push_many([env_])
        wait_for(4 * workers + n + n_paced)
        slow = [
            r["latency_ms"]
            for r in db.query(
                "SELECT latency_ms FROM pipeline_events WHERE event_id LIKE ?", ("paced-%",)
            )
        ]
        dead = int(db.query_one("SELECT COUNT(*) AS n FROM dead_letters")["n"])
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        rs.delete()
        rs.close()
        db.close()
    return {
        "events_per_s": n / wall,
        "dead_letters": dead,
        "backlog_p50_ms": pct(burst, 50),
        "backlog_p99_ms": pct(burst, 99),
        "paced_p50_ms": pct(slow, 50),
        "paced_p99_ms": pct(slow, 99),
    }


def bench_backfill(work: Path, photos: list[Path], n: int) -> dict[str, float]:
    from gardefou.pipeline.backfill import BackfillConfig, run_backfill
    from gardefou.testing.ray_cluster import local_cluster

    folder = work / "archive"
    folder.mkdir()
    for i, p in enumerate(photos[:n]):
        (folder / f"{i:05d}.jpg").symlink_to(p)
    signals = [
        "crypto_hash",
        "pdq",
        "pdq_dihedral",
        "nudity",
        "faces",
        "age",
        "identity",
        "provenance",
    ]
    # the loop: one process (its first batch loads the models; measured after a warm-up batch)
    warm = work / "warm-archive"
    warm.mkdir()
    for i, p in enumerate(photos[-4:]):
        (warm / f"w{i}.jpg").symlink_to(p)
    run_backfill([warm], BackfillConfig(db_url=str(work / "bf-loop.db"), signals=signals))
    loop = run_backfill([folder], BackfillConfig(db_url=str(work / "bf-loop.db"), signals=signals))
    with local_cluster(nodes=2, cpus_per_node=1) as address:
        ray_report = run_backfill(
            [folder],
            BackfillConfig(
                db_url=str(work / "bf-ray.db"),
                signals=signals,
                batch=8,
                actors=2,
                cpus_per_actor=1,
                ray_address=address,
            ),
            runner="ray",
        )
    return {"loop_items_per_s": loop["items_per_s"], "ray_items_per_s": ray_report["items_per_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=150)
    ap.add_argument("--paced", type=int, default=30, help="events sent at --rate per backend")
    ap.add_argument("--rate", type=float, default=FLOOD_PER_S)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ray-items", type=int, default=120)
    ap.add_argument("--skip-redis", action="store_true")
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--cheap-first",
        action="store_true",
        help="only section F: eager vs cheap-first signals, benign and flood-like mixes",
    )
    ap.add_argument("--cheap-first-events", type=int, default=100)
    ap.add_argument(
        "--photo-side",
        type=int,
        default=0,
        help="section F: resize the photos so their long side is this many px (e.g. 1024, the "
        "size of generator outputs); 0 keeps BSDS500's 481x321",
    )
    ap.add_argument(
        "--mixes",
        default="benign,flood,flood_faces",
        help="section F mixes: benign (all photos), flood (--sexualized-share forced), "
        "flood_faces (only photos with a face, all forced suggestive: the flood's shape)",
    )
    ap.add_argument(
        "--sexualized-share",
        type=float,
        default=0.65,
        help="flood mix: share of images whose nudity result is forced to a recorded "
        "'suggestive' (default 0.65)",
    )
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores (shared machine)")
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="gf-bench-") as tmp:
        work = Path(tmp)
        photos = images(work, max(args.events, args.ray_items, args.cheap_first_events, 60))
        out["A_baseline"] = bench_baseline(photos)
        print("A", out["A_baseline"], flush=True)
        if args.cheap_first:
            out["F_cheap_first"] = run_cheap_first(
                work,
                photos,
                args.cheap_first_events,
                args.sexualized_share,
                [m for m in args.mixes.split(",") if m],
                args.photo_side,
            )
            out["load_average_end"] = os.getloadavg()
            if args.json:
                print(json.dumps(out, default=float))
            report_cheap_first(out, args)
            return
        out["B_embedded_1core"] = bench_embedded(work, photos, args.events)
        print("B", out["B_embedded_1core"], flush=True)
        out["C_pool"] = bench_pool(work, photos, args.events, args.workers)
        print("C", out["C_pool"], flush=True)
        out["D0_embedded_paced"] = bench_embedded_paced(work, photos, args.paced, args.rate)
        print("D0", out["D0_embedded_paced"], flush=True)
        pg, rd = os.environ.get("GARDEFOU_TEST_PG_URL"), os.environ.get("GARDEFOU_TEST_REDIS_URL")
        if args.skip_redis or not (pg and rd):
            print(
                "D skipped: set GARDEFOU_TEST_PG_URL and GARDEFOU_TEST_REDIS_URL "
                '(eval "$(scripts/start-services.sh)")'
            )
        else:
            for w in sorted({1, args.workers}):
                key = f"D_streams_pg_{w}w"
                out[key] = bench_streams(
                    work, photos, args.events, args.paced, args.rate, w, pg, rd
                )
                print("D", key, out[key], flush=True)
        if not args.skip_ray:
            out["E_backfill"] = bench_backfill(work, photos, args.ray_items)
            print("E", out["E_backfill"], flush=True)
    out["load_average_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(out, default=float))
    report(out, args)


def report_cheap_first(out: dict[str, object], args: argparse.Namespace) -> None:
    res = out["F_cheap_first"]
    assert isinstance(res, dict)
    print("\n== pipeline_bench F: cheap-first signals (embedded SQLite, one core) ==")
    print(f"A baseline decode+PDQ: {out['A_baseline']['decode_pdq_cpu_ms']:.1f} CPU ms/image")  # type: ignore[index]
    print(
        f"{args.cheap_first_events} events per run (10% text-only); the flood mix forces the "
        f"nudity result of ~{args.sexualized_share:.0%} of the images (chosen by hash) to a "
        "RECORDED 'suggestive' result after the nudity model ran; all other signals run for real "
        "on benign BSDS500 photos (flood_faces: only those with a face, all forced)"
    )
    head = f"{'mix':11} {'path':16} {'ms/event':>9} {'ms/image':>9} {'ms/request':>10}"
    print(head + f" {'flood headroom':>15} {'faces/img':>10} {'age/img':>8} {'forced':>7}  actions")
    for mix in ("benign", "flood", "flood_faces"):
        for path in ("eager", "cheap_first", "no_thread_memory"):
            r = res.get(f"{mix}_{path}")
            if r is None:
                continue
            print(
                f"{mix:11} {path:16} {r['cpu_ms_per_event']:9.1f} "
                f"{r['cpu_ms_per_image_event']:9.1f} {r['cpu_ms_per_request_event']:10.1f} "
                f"{r['flood_headroom_cpu_x']:14.1f}x {r['faces_runs_per_image_event']:10.2f} "
                f"{r['age_runs_per_image_event']:8.2f} {r['forced_suggestive_share']:6.0%}"
                f"  {r['actions']}"
            )
            print(f"{'':28} CPU ms/image by signal: {r['signal_cpu_ms_per_image_event']}")
    print(
        "CPU ms by signal: work shared between signals is charged to the first one that needs "
        "it (NudeNet's detections feed the faces signal, which feeds age and identity: "
        "whichever of them runs first pays for NudeNet)"
    )
    print(
        "CPU time on one core. ms/image: image events alone (the text-only events of the mix, "
        "measured as ms/request, taken out); flood headroom = 1000 / (1.86 x (ms/image + "
        "ms/request)): each flood image comes with the request post it answers"
    )
    print(
        "no_thread_memory is a what-if, NOT decision-preserving: identity also skipped when no "
        "rule needs it now, so a later reply could not be compared with the image's faces"
    )
    print(f"load average at end: {out['load_average_end']} (shared machine: other jobs running)")
    print("rerun: .venv/bin/python benchmarks/pipeline_bench.py " + " ".join(sys.argv[1:]))


def report(out: dict[str, object], args: argparse.Namespace) -> None:
    def f(section: str, key: str, fmt: str = "{:.1f}") -> str:
        v = out.get(section, {}).get(key) if isinstance(out.get(section), dict) else None  # type: ignore[union-attr]
        return fmt.format(v) if isinstance(v, int | float) else "-"

    print("\n== pipeline_bench (full signal stack; shared 2-core machine) ==")
    print(f"A baseline decode+PDQ: {f('A_baseline', 'decode_pdq_cpu_ms')} CPU ms/image")
    print(
        f"B embedded, 1 core: {f('B_embedded_1core', 'events_per_s')} events/s, "
        f"{f('B_embedded_1core', 'cpu_ms_per_event')} CPU ms/event, p50 "
        f"{f('B_embedded_1core', 'p50_ms')} ms, p99 {f('B_embedded_1core', 'p99_ms')} ms"
    )
    print(
        f"  January 2026 flood ({FLOOD_PER_S:.2f}/s): headroom "
        f"{f('B_embedded_1core', 'headroom_wall_x')}x (wall), "
        f"{f('B_embedded_1core', 'headroom_cpu_x')}x (CPU time)"
    )
    print(f"C embedded pool, {args.workers} workers: {f('C_pool', 'events_per_s')} events/s")
    print(
        f"  at {args.rate:.2f} events/s arrival: p50 {f('D0_embedded_paced', 'p50_ms')} ms, "
        f"p99 {f('D0_embedded_paced', 'p99_ms')} ms"
    )
    for w in sorted({1, args.workers}):
        k = f"D_streams_pg_{w}w"
        print(
            f"D Redis Streams + PostgreSQL, {w} worker(s): {f(k, 'events_per_s')} events/s; "
            f"backlog p50/p99 {f(k, 'backlog_p50_ms', '{:.0f}')}/"
            f"{f(k, 'backlog_p99_ms', '{:.0f}')} ms; "
            f"at {args.rate:.2f}/s p50/p99 {f(k, 'paced_p50_ms')}/{f(k, 'paced_p99_ms')} ms"
        )
    print(
        f"E backfill (full content stack): loop {f('E_backfill', 'loop_items_per_s')} items/s, "
        f"Ray 2 nodes x 1 CPU {f('E_backfill', 'ray_items_per_s')} items/s"
    )
    print(f"load average at end: {out['load_average_end']}")
    print("rerun: .venv/bin/python benchmarks/pipeline_bench.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "pipeline_bench")
