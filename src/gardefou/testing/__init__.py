"""Test support shipped with gardefou, in one package (as httpx ships MockTransport).

- ``gardefou.testing`` (this module): hand-made signal results in the shape the real signals
  return, ``FakeSignal``, ``FakeBankService``, ``fake_intent`` (``fake_signals.py``). No model
  runs and no imagery.
- ``gardefou.testing.fake_pipeline``: a decider with a visible side effect and synthetic event
  streams of benign generated images, for the runners
  (``--decider gardefou.testing.fake_pipeline:recording_decider``).
- ``gardefou.testing.ray_cluster``: a throwaway multi-node Ray cluster on this machine.
- ``gardefou.testing.fake_stopncii``, ``fake_ncmec``, ``fake_threatexchange``: local fake
  exchange servers (paging, withdrawals, injected 429/5xx) for the exchange clients.
- ``gardefou.testing.faults``: crashes injected at the worst moment (production code has no
  fault switch, only ordinary hooks these use).

Nothing under ``gardefou/`` outside this package imports it (``tests/test_testing_package.py``).
"""

from __future__ import annotations

from gardefou.testing.fake_signals import (
    POLICY_SIGNALS,
    FakeBankService,
    FakeSignal,
    age,
    faces,
    fake_intent,
    identity,
    jitter,
    nudity,
    pdq_dihedral,
    person_embedding,
    provenance,
    signal_set,
)

__all__ = [
    "POLICY_SIGNALS",
    "FakeBankService",
    "FakeSignal",
    "age",
    "faces",
    "fake_intent",
    "identity",
    "jitter",
    "nudity",
    "pdq_dihedral",
    "person_embedding",
    "provenance",
    "signal_set",
]
