"""The decision package's imports run one way (docs/architecture.md): no import cycle reaches
``gardefou.decide`` (imports inside functions count), each of its modules imports only the ones
above it, none hides a cycle behind a module ``__getattr__``, and each stays under 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import gardefou
from tests.test_architecture import strongly_connected

SRC = Path(gardefou.__file__).parent
#: the decide package's modules, top (imported by the others) to bottom
LAYERS = [
    "intent",
    "services",
    "results",
    "context",
    "video",
    "judge",
    "reevaluate",
    "record",
    "runner",
]


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Module -> the gardefou modules it imports, anywhere in its body. Importing
    ``a.b.c`` from outside ``a.b`` also runs ``a.b``'s ``__init__``: an edge to it."""
    files = {_module(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join([*pkg, base] if base else pkg)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]  # fmt: skip
            for t in targets:
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if not t.startswith("gardefou") or t == name:
                    continue
                edges.add(t)
                parts = t.split(".")
                for i in range(2, len(parts)):
                    parent = ".".join(parts[:i])
                    if parent in files and not name.startswith(parent + ".") and parent != name:
                        edges.add(parent)
        graph[name] = edges
    return graph


def test_no_import_cycle_reaches_the_decide_package():
    cycles = strongly_connected(_graph())
    touching = [c for c in cycles if any(m.startswith("gardefou.decide") for m in c)]
    assert touching == []


def test_decide_modules_import_only_the_layers_above():
    graph = _graph()
    for i, layer in enumerate(LAYERS):
        inside = {m.rpartition(".")[2] for m in graph[f"gardefou.decide.{layer}"]
                  if m.startswith("gardefou.decide.")}  # fmt: skip
        below = inside - set(LAYERS[:i])
        assert not below, f"gardefou.decide.{layer} imports {sorted(below)}, which sit below it"
        assert "gardefou.decide" not in graph[f"gardefou.decide.{layer}"], layer


def test_every_decide_module_is_listed_in_the_layers():
    found = {p.stem for p in (SRC / "decide").glob("*.py")} - {"__init__"}
    assert found == set(LAYERS)


def test_no_module_getattr_and_small_modules():
    for path in (SRC / "decide").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "__getattr__" not in names, path.name
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name


def test_the_graph_sees_function_level_imports():
    """The walk must count imports inside functions, or a deferred import would hide a cycle."""
    graph = _graph()
    # gardefou.pipeline.deciders imports the decision layer inside default_decider only
    assert "gardefou.decide" in graph["gardefou.pipeline.deciders"]


#: what ``gardefou.decide`` offered as a module (its own names and its re-exports)
EXPORTED_BEFORE = (
    "BANK_SIGNAL IDENTITY_FACTS NO_PARENT_NOTE SKIPPED_KEY VICTIM_SOURCES bank_facts "
    "consent_context item_context CONTEXT_SIGNALS Extract STORE_BANKS Services services_for "
    "ItemResult Decided StoredDecision decide post_context judge_lazily judge_items combine "
    "get_decision record decide_event PlatformDecider platform_decider"
).split()


def test_the_package_exports_what_the_module_did():
    import gardefou.decide as d

    assert [n for n in EXPORTED_BEFORE if not hasattr(d, n)] == []
    assert set(EXPORTED_BEFORE) <= set(d.__all__)
    assert d.platform_decider().__class__ is d.PlatformDecider


def test_the_decider_option_loads_the_platform_decider():
    """``--decider gardefou.decide:platform_decider`` (docs/policy.md) without a module
    ``__getattr__``: the name is the package's own."""
    from gardefou.decide import PlatformDecider
    from gardefou.pipeline import load_decider

    assert isinstance(load_decider("gardefou.decide:platform_decider"), PlatformDecider)
