"""The faster request check gives the verdicts of the code it replaced.

tests/fixtures/guard/intent_recorded.json was written by scripts/record_guard_intent.py with the
code before the speed work (every labelled request: training/, the held-out fixtures, the shared
dev set; and long text-to-image prompts): same ``sexual`` verdicts and categories, scores within
1e-5, the same nearest training requests. The memo of exact repeats is bounded, thread-safe and
keyed by everything the verdict depends on.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from gardefou.guard.intent import IntentClassifier
from gardefou.guard.normalize import normalize
from gardefou.guard.targets import text_targets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from record_guard_intent import key, labelled_requests, long_prompts  # noqa: E402

RECORDED = json.loads((REPO / "tests/fixtures/guard/intent_recorded.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def clf() -> IntentClassifier:
    c = IntentClassifier(memo_size=0)
    try:
        c.model.embedder.load()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"sentence encoder not loadable here: {exc}")
    return c


def assert_same_neighbours(got: list[str], near: list[list], where: object) -> None:
    """The recorded nearest requests in the recorded order. Two whose recorded similarities are
    within 1e-5 may come in either order: float32 sums are rounded differently by other CPUs'
    kernels (AVX-512, ARM), which may swap a near-tie but never a real gap."""
    assert len(got) == len(near), where
    for prompt, (want, sim) in zip(got, near, strict=True):
        tied = {p for p, s in near if abs(s - sim) <= 1e-5}
        assert prompt == want or (len(tied) > 1 and prompt in tied), (where, got, near)


def check(clf: IntentClassifier, requests: list[tuple[str, str]]) -> int:
    seen = 0
    for text, kind in requests:
        want = RECORDED.get(key(text, kind))
        if want is None:
            continue
        it = clf.classify(text, kind=kind)
        sexual, cats, score, near = want
        assert (it.sexual, list(it.categories)) == (sexual, cats), (text, kind)
        assert abs(it.score - score) <= 1e-5, (text, kind, it.score, score)
        assert_same_neighbours([n.prompt for n in it.neighbours], near, (text, kind))
        assert np.allclose([n.similarity for n in it.neighbours], [s for _, s in near], atol=1e-5)
        seen += 1
    return seen


def test_recording_covers_the_labelled_requests() -> None:
    reqs = labelled_requests()
    assert len(reqs) >= 5000
    assert all(key(t, k) in RECORDED for t, k in reqs)


def test_same_verdicts_as_recorded_sample(clf: IntentClassifier) -> None:
    # every 12th labelled request (about 500, a few seconds); the slow test runs them all
    assert check(clf, labelled_requests()[::12]) >= 400


@pytest.mark.slow
def test_same_verdicts_as_recorded_everywhere(clf: IntentClassifier) -> None:
    reqs = labelled_requests() + long_prompts()
    assert check(clf, reqs) == len(reqs)  # every one recorded (duplicates checked each time)


def test_nearest_is_the_full_sort() -> None:
    """The partial selection over one label's rows lists what the full stable sort listed."""
    c = IntentClassifier(memo_size=0)
    w = c.model.load()
    rng = np.random.default_rng(7)
    for i in range(40):
        # training embeddings themselves (exact ties with a duplicate row) and random directions
        emb = w["nn_emb"][rng.integers(len(w["nn_emb"]))] if i % 2 else rng.normal(size=512)
        x = type("X", (), {"emb": (emb / np.linalg.norm(emb)).astype(np.float32)})()
        for refuse in (True, False, None):
            sims = w["nn_emb"] @ x.emb
            if refuse is not None:
                sims = np.where(w["nn_label"] == refuse, sims, -2.0)
            top = np.argsort(-sims, kind="stable")[:3]
            want = [(w["nn_prompt"][j], float(sims[j])) for j in top if sims[j] > -2.0]
            got = [(n.prompt, n.similarity) for n in c.model.nearest(x, refuse=refuse)]
            assert [p for p, _ in got] == [p for p, _ in want]
            assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-6)


def test_memo_returns_the_same_verdict_and_is_bounded(clf: IntentClassifier) -> None:
    c = IntentClassifier(clf.model, memo_size=3)
    first = c.classify("put her in a bikini")
    assert c.classify("put her in a bikini") is first
    assert first.encoded is not None and not first.encoded.emb.flags.writeable
    # another kind of input, other targets: other verdicts, never the remembered one
    assert c.classify("put her in a bikini", kind="object") is not first
    norm = normalize("put her in a bikini")
    other = text_targets("put her in a bikini, she is 15", "put her in a bikini she is 15")
    assert c.classify("put her in a bikini", normalized=norm, targets=other) is not first
    for t in ("a red hat", "a blue hat", "a green hat"):
        c.classify(t)
    assert len(c._memo) == 3
    assert c.classify("put her in a bikini") is not first  # evicted, recomputed
    assert IntentClassifier(clf.model, memo_size=0).classify("a red hat") is not c.classify(
        "a red hat"
    )


def test_memo_is_thread_safe(clf: IntentClassifier) -> None:
    c = IntentClassifier(clf.model, memo_size=8)
    texts = [f"make her dress {w}" for w in ("red", "blue", "shorter", "see-through", "longer")]
    want = {t: clf.classify(t).sexual for t in texts}
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            for i in range(40):
                t = texts[(i + k) % len(texts)]
                assert c.classify(t).sexual == want[t]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(c._memo) <= 8


def test_a_failed_model_is_not_remembered(clf: IntentClassifier) -> None:
    from gardefou.errors import ModelUnavailableError

    c = IntentClassifier(clf.model, memo_size=8)
    real = c.model.probability

    def broken(x: object) -> float:
        raise ModelUnavailableError("weights unreadable (test)")

    c.model.probability = broken  # type: ignore[method-assign]
    try:
        assert c.classify("put her in a bikini").model_error is not None
    finally:
        c.model.probability = real  # type: ignore[method-assign]
    assert c.classify("put her in a bikini").model_error is None
