"""The direction of imports is the architecture (docs/architecture.md): front ends (``ui``,
``cli``) → the service (``gallery``) → the core and the seams (``bedrock``, ``offline``,
``stores``); nothing below imports anything above, and nothing imports the CLI.

Read from the source with ``ast`` (every import statement, module level or inside a function;
``if TYPE_CHECKING:`` blocks are left out: they never run). Each rule is also checked against a
made-up graph that breaks it, so a rule that could never fail would show here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gallery_kit"

#: The core: the service, the request and record types, settings, errors, edit requests.
CORE = (
    "gallery_kit.gallery",
    "gallery_kit.adoption",
    "gallery_kit.keeping",
    "gallery_kit.records",
    "gallery_kit.imaging",
    "gallery_kit.input_images",
    "gallery_kit.settings",
    "gallery_kit.errors",
    "gallery_kit.generation",
    "gallery_kit.edits",
    "gallery_kit.inflight",
)
AWS_LIBRARIES = ("boto3", "botocore", "mypy_boto3_s3", "mypy_boto3_bedrock_runtime")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The modules ``path`` imports (``from a import b`` counts ``a.b`` when that is a module)."""
    found: set[str] = set()
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, known) for p in paths}


def _within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Rule:
    """Modules under ``sources`` may not import anything under ``forbidden``."""

    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...]
    #: Modules under ``sources`` the rule leaves out (a front end's own package).
    allowed_sources: tuple[str, ...] = ()

    def violations(self, graph: Mapping[str, set[str]]) -> list[str]:
        out = []
        for module, imported in sorted(graph.items()):
            if not _within(module, self.sources) or _within(module, self.allowed_sources):
                continue
            out += [
                f"{module} imports {target}"
                for target in sorted(imported)
                if _within(target, self.forbidden)
            ]
        return out


RULES = (
    Rule(
        "the core never imports the UI, the CLI or an AWS library",
        CORE,
        ("gallery_kit.ui", "gallery_kit.cli", *AWS_LIBRARIES),
    ),
    Rule(
        "the stores never import the UI, the CLI, the service or a generator",
        ("gallery_kit.stores",),
        (
            "gallery_kit.ui",
            "gallery_kit.cli",
            "gallery_kit.gallery",
            "gallery_kit.bedrock",
            "gallery_kit.offline",
        ),
    ),
    Rule(
        "bedrock never imports the service, the stores, the UI or the CLI",
        ("gallery_kit.bedrock",),
        ("gallery_kit.gallery", "gallery_kit.stores", "gallery_kit.ui", "gallery_kit.cli"),
    ),
    Rule(
        "offline never imports AWS, the stores, the service, the UI or the CLI",
        ("gallery_kit.offline",),
        (
            *AWS_LIBRARIES,
            "gallery_kit.stores",
            "gallery_kit.gallery",
            "gallery_kit.ui",
            "gallery_kit.cli",
        ),
    ),
    Rule(
        "search never imports bedrock, AWS, the UI or the CLI",
        ("gallery_kit.search",),
        ("gallery_kit.bedrock", *AWS_LIBRARIES, "gallery_kit.ui", "gallery_kit.cli"),
    ),
    Rule(
        "team never imports AWS (but its sts module), the UI or the CLI",
        ("gallery_kit.team",),
        (*AWS_LIBRARIES, "gallery_kit.ui", "gallery_kit.cli"),
        allowed_sources=("gallery_kit.team.sts",),
    ),
    Rule(
        "the UI never imports an AWS library or the CLI",
        ("gallery_kit.ui",),
        (*AWS_LIBRARIES, "gallery_kit.cli"),
    ),
    Rule(
        "the server never imports the UI, the service or an AWS library",
        ("gallery_kit.server",),
        ("gallery_kit.ui", "gallery_kit.gallery", *AWS_LIBRARIES),
    ),
    Rule(
        "nothing imports the CLI",
        ("gallery_kit",),
        ("gallery_kit.cli",),
        allowed_sources=("gallery_kit.cli",),
    ),
)


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), among gallery_kit's.

    A package's ``__init__`` importing its own submodules is not a cycle of the code: the
    edge from a submodule to its parent package (Python imports parents first) is left out.
    """
    nodes = sorted(graph)
    edges = {
        n: sorted(t for t in graph[n] if t in graph and not n.startswith(t + ".")) for n in nodes
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            strong(node)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_import_direction(rule: Rule, graph: dict[str, set[str]]) -> None:
    assert rule.violations(graph) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_catches_a_forbidden_import(rule: Rule, graph: dict[str, set[str]]) -> None:
    source = next(
        m
        for m in sorted(graph)
        if _within(m, rule.sources) and not _within(m, rule.allowed_sources)
    )
    broken = {**graph, source: {*graph[source], rule.forbidden[0] + ".anything"}}
    assert rule.violations(broken) == [f"{source} imports {rule.forbidden[0]}.anything"]


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []
    looped = {
        **graph,
        "gallery_kit.records": {*graph["gallery_kit.records"], "gallery_kit.gallery"},
    }
    assert any({"gallery_kit.gallery", "gallery_kit.records"} <= set(c) for c in cycles(looped))


def test_every_package_says_what_lives_there_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert len(doc.split()) >= 12, init
        if init.parent != PACKAGE and init.parent.name != "families":
            assert "import" in doc.lower(), init


def test_no_module_is_past_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_importing_the_core_loads_no_aws_library() -> None:
    """Checked in a fresh interpreter: what ``import gallery_kit.gallery`` really loads."""
    code = (
        "import sys, gallery_kit.gallery, gallery_kit.settings, gallery_kit.edits\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
