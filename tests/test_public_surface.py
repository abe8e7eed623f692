"""The public surface of every package, pinned: each ``__all__`` is written out here, so adding,
removing or renaming an export is a visible change (and a CHANGELOG line), never an accident.
Every exported name exists, is public, and is gardefou's own (``gardefou.signals`` once
exported ``typing.Any``)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gardefou"
#: packages that hold data files only (no Python API)
DATA_PACKAGES = frozenset({"gardefou.data", "gardefou.store.migrations"})

EXPECTED_ALL: dict[str, list[str]] = {
    "gardefou": ["__version__"],
    "gardefou.banks": [
        "Bank",
        "BankService",
        "DEFAULT_THRESHOLD",
        "Entry",
        "HashIndex",
        "ImportReport",
        "MIN_QUALITY",
        "Match",
        "Submission",
        "brute_force",
        "hexes_to_words",
        "words_to_hexes",
    ],
    "gardefou.cases": [
        "ACTIONED",
        "APPEALED",
        "Appeal",
        "CLOSED",
        "Case",
        "CaseAction",
        "CaseStore",
        "FOUR_EYES",
        "PENDING_REVIEW",
        "SECOND_REVIEW",
        "STATUSES",
        "SanctionRecord",
        "Standing",
        "Strike",
    ],
    "gardefou.cli": [],
    "gardefou.decide": [
        "BANK_SIGNAL",
        "CONTEXT_SIGNALS",
        "Decided",
        "Extract",
        "IDENTITY_FACTS",
        "ItemResult",
        "NO_PARENT_NOTE",
        "PlatformDecider",
        "RequestIntent",
        "SKIPPED_KEY",
        "STORE_BANKS",
        "Services",
        "StoredDecision",
        "VICTIM_SOURCES",
        "bank_facts",
        "combine",
        "consent_context",
        "decide",
        "decide_event",
        "get_decision",
        "item_context",
        "judge_items",
        "judge_lazily",
        "platform_decider",
        "post_context",
        "record",
        "reevaluate_replies",
        "request_intent",
        "rules_intent",
        "services_for",
    ],
    "gardefou.evidence": [
        "BlobStore",
        "BundleReport",
        "Checkpoint",
        "EvidenceKeys",
        "EvidenceLog",
        "EvidenceStore",
        "Hold",
        "MerkleTree",
        "Receipt",
        "Signer",
        "Verifier",
        "export_bundle",
        "verify_bundle",
        "verify_consistency",
        "verify_inclusion",
    ],
    "gardefou.exchanges": ["Exchange", "ExchangeService", "FetchReport", "KINDS"],
    "gardefou.gateway": [
        "CallableUpstream",
        "GatewayConfig",
        "GatewayService",
        "HTTPUpstream",
        "ImageRequest",
        "Refused",
        "Upstream",
        "UpstreamResult",
        "build_service",
        "create_gateway_app",
    ],
    "gardefou.guard": [
        "Context",
        "Guard",
        "GuardConfig",
        "Intent",
        "IntentClassifier",
        "normalize",
        "request_hash",
        "validate_prompt",
    ],
    "gardefou.media": ["Limits", "Media", "load_media", "sniff_format"],
    "gardefou.ops": [],
    "gardefou.pipeline": [
        "Decider",
        "Envelope",
        "Metrics",
        "Outcome",
        "PipelineEvent",
        "PipelineLedger",
        "Processor",
        "load_decider",
        "parse_event",
    ],
    "gardefou.policy": [
        "Accountability",
        "CONTEXT_FACTS",
        "Policy",
        "Rule",
        "Sanction",
        "UNKNOWN",
        "default_policy_text",
        "dsa_fields",
        "evaluate",
        "load_default_policy",
        "load_policy",
        "parse_policy",
        "signal_fact_table",
    ],
    "gardefou.reports": [],
    "gardefou.signals": [
        "CONTENT_SIGNALS",
        "DEFAULT_SCAN_SIGNALS",
        "ENTRY_POINT_GROUP",
        "REGISTRY",
        "Signal",
        "SignalRegistry",
        "SignalResult",
        "available_signals",
        "get_signal",
        "register",
        "signal_facts",
        "signal_names",
    ],
    "gardefou.store": ["Database", "MediaRepository", "connect", "default_db_path"],
    "gardefou.takedown": [
        "Contact",
        "DEADLINE_HOURS",
        "DepictionHash",
        "Kind",
        "NewRequest",
        "REGULATORS",
        "Signature",
        "Status",
        "TakedownRequest",
        "TakedownService",
        "VideoHash",
        "validate",
    ],
    "gardefou.testing": [
        "FakeBankService",
        "FakeSignal",
        "POLICY_SIGNALS",
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
    ],
    "gardefou.web": ["Settings", "create_app"],
    "gardefou.web.routers": [],
}


def packages() -> list[str]:
    found = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        name = ".".join(init.parent.relative_to(PACKAGE.parent).parts)
        if name not in DATA_PACKAGES:
            found.append(name)
    return found


def _pin_line(name: str) -> str:
    """The EXPECTED_ALL line for a package as it is now (to paste once the change is meant)."""
    exported = getattr(importlib.import_module(name), "__all__", None)
    return f"    {name!r}: {sorted(exported)!r}," if exported is not None else f"{name}: no __all__"


def test_every_package_is_pinned() -> None:
    missing = sorted(set(packages()) - set(EXPECTED_ALL))
    lines = "\n".join(_pin_line(n) for n in missing)
    assert not missing, f"packages without a pinned __all__; add to EXPECTED_ALL:\n{lines}"
    gone = sorted(set(EXPECTED_ALL) - set(packages()))
    assert not gone, f"{gone} are no longer packages: remove them from EXPECTED_ALL"


@pytest.mark.parametrize("name", sorted(EXPECTED_ALL))
def test_all_is_what_the_package_promises(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    assert sorted(exported) == EXPECTED_ALL[name], f"if meant, pin:\n{_pin_line(name)}"


@pytest.mark.parametrize("name", sorted(EXPECTED_ALL))
def test_exports_exist_are_public_and_are_gardefous_own(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.__all__ names {attr!r}, which it does not define"
        assert attr == "__version__" or not attr.startswith("_"), f"{name} exports {attr!r}"
        value = getattr(module, attr)
        # classes and functions only: a type alias (``Extract = Callable[...]``) reports the
        # module of its origin (collections.abc) though gardefou defines it
        own = inspect.isclass(value) or inspect.isfunction(value)
        origin = getattr(value, "__module__", None) if own else None
        if origin is not None:
            assert origin.startswith("gardefou"), f"{name} exports {attr!r} from {origin}"
