"""Property-based run of the OpenAPI spec (schemathesis): no request, valid or not, gets a 5xx.

Runs every operation with generated bodies, paths and queries (positive and negative modes),
with an admin key (deepest code paths) and without one. Slow: `pytest -m slow
tests/test_web_schemathesis.py`; GARDEFOU_SCHEMATHESIS_EXAMPLES raises the examples per operation.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import schemathesis
        from hypothesis import HealthCheck, settings
        from schemathesis.checks import not_a_server_error
    except ImportError:  # pragma: no cover - depends on the install
        schemathesis = None

if schemathesis is None:
    pytest.skip(
        "schemathesis is not installed (`pip install schemathesis`)", allow_module_level=True
    )

ADMIN = "schemathesis-admin-key"
EXAMPLES = int(os.environ.get("GARDEFOU_SCHEMATHESIS_EXAMPLES", "30"))


def _app():
    from gardefou.decide import PlatformDecider
    from gardefou.decide import Services as DecideServices
    from gardefou.guard import Guard, GuardConfig
    from gardefou.pipeline.core import Processor
    from gardefou.pipeline.sources import IngestHandler
    from gardefou.web import Settings, create_app
    from gardefou.web.auth import Role

    folder = Path(tempfile.mkdtemp(prefix="gardefou-schemathesis-"))
    rates = {str(role): 10**9 for role in Role}  # rate limits are not under test
    app = create_app(Settings(db=str(folder / "s.db"), admin_key=ADMIN, rates=rates))
    # text-only guard without the sentence encoder: the HTTP layer is what is under test
    svc = app.state.services
    svc.provide("guard", Guard(GuardConfig(use_semantic=False)))
    # recorded signal outputs instead of the models (the decision layer runs for real)
    svc.provide("decide", DecideServices(svc.db, extract=_fake_signals, banks=svc.banks()))
    decider = PlatformDecider(lambda db: DecideServices(db, extract=_fake_signals))
    svc.provide("ingest", IngestHandler(processor=Processor(svc.db, decider)))
    return app


def _fake_signals(media, names):
    from gardefou import testing as T

    r = T.signal_set(T.nudity("explicit", 0.55), T.faces(1), T.identity([T.person_embedding(1)]))
    r.setdefault("pdq_dihedral", T.pdq_dihedral("0" * 64))
    return {k: v for k, v in r.items() if k in names}


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_with_admin_key(case) -> None:
    case.call_and_validate(headers={"X-API-Key": ADMIN}, checks=[not_a_server_error])


@schema.parametrize()
@settings(
    max_examples=max(5, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck)
)
def test_no_server_errors_without_key(case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
