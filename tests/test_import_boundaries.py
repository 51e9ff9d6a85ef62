"""The packages' import rules, read from the source with `ast` (nothing is imported).

- `ivr` is the call flow, pure: no web framework, database, Redis, job queue or HTTP client,
  and none of the other packages.
- The service (`switchboard`, `workers`) never imports the simulator (`sim`), except the two
  commands that run it, and those only inside functions.
- `workers` (the ingest consumer, the projection, the jobs) may use the shared infrastructure
  in `switchboard`; `switchboard` imports `workers` only along the edges in `WEB_TO_WORKERS`,
  each with its reason.
- No import cycles between modules at import time.

Every import counts for the rules, at module level and inside functions; only the cycle check
leaves out imports inside functions and under `if TYPE_CHECKING:`, which run late or never.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ivr", "switchboard", "workers", "sim")

# What the pure call flow must not use: web frameworks, databases, Redis, jobs, HTTP clients.
IVR_FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "redis",
    "rq",
    "httpx",
    "twilio.rest",
    "switchboard",
    "workers",
    "sim",
)

# The only service modules that may import the simulator, and only inside functions: the
# commands that run it.
SIM_COMMANDS = {"switchboard.cli.simulate", "switchboard.cli.try_call"}

# switchboard -> workers: (importer, imported) -> why it is allowed. The command line is where
# the processes are put together, so its commands that run a worker process import it, inside
# their handlers.
WEB_TO_WORKERS: dict[tuple[str, str], str] = {
    ("switchboard.cli.ingest", "workers.ingest"): "`switchboard ingest` runs the consumer",
    ("switchboard.cli.ingest", "workers.sweep"): "the consumer process runs the sweep",
    ("switchboard.cli.ingest", "workers.purge"): "the consumer process runs the nightly purge",
    ("switchboard.cli.purge", "workers.purge"): "`switchboard purge` runs the purge now",
    ("switchboard.cli.worker", "workers.queues"): "`switchboard worker` runs the RQ worker",
    ("switchboard.cli.worker", "workers.context"): "the worker's jobs run in a job context",
}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module, or `module.name` when the name may be a submodule
    lazy: bool  # inside a function
    typing_only: bool  # under `if TYPE_CHECKING:`
    line: int

    def __str__(self) -> str:
        where = " (in a function)" if self.lazy else ""
        return f"{self.importer}:{self.line} imports {self.target}{where}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> Iterator[Import]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def visit(node: ast.AST, *, lazy: bool, typing_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(name, alias.name, lazy, typing_only, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                yield Import(name, module, lazy, typing_only, child.lineno)
                for alias in child.names:
                    yield Import(name, f"{module}.{alias.name}", lazy, typing_only, child.lineno)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, lazy=True, typing_only=typing_only)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for statement in child.body:
                    yield from visit(
                        ast.Module(body=[statement], type_ignores=[]), lazy=lazy, typing_only=True
                    )
                for statement in child.orelse:
                    yield from visit(
                        ast.Module(body=[statement], type_ignores=[]),
                        lazy=lazy,
                        typing_only=typing_only,
                    )
            else:
                yield from visit(child, lazy=lazy, typing_only=typing_only)

    yield from visit(tree, lazy=False, typing_only=False)


MODULES = {module_name(path): path for path in source_files()}
IMPORTS = [found for path in MODULES.values() for found in imports_of(path)]


def within(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


def our_module(target: str) -> str | None:
    """The module of ours that `target` names (`a.b.name` -> `a.b` if `name` is no module)."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def test_every_package_is_parsed():
    assert {name.partition(".")[0] for name in MODULES} == set(PACKAGES)
    assert len(IMPORTS) > 1000


@pytest.mark.parametrize("forbidden", IVR_FORBIDDEN)
def test_ivr_stays_pure(forbidden):
    offending = [
        str(found)
        for found in IMPORTS
        if within(found.importer, "ivr") and within(found.target, forbidden)
    ]
    assert offending == []


def test_the_service_never_imports_the_simulator():
    offending = [
        str(found)
        for found in IMPORTS
        if found.importer.partition(".")[0] in ("switchboard", "workers", "ivr")
        and within(found.target, "sim")
        and not (found.importer in SIM_COMMANDS and found.lazy)
    ]
    assert offending == []


def test_the_simulator_commands_import_it_lazily():
    edges = {found.importer for found in IMPORTS if within(found.target, "sim") and found.lazy}
    assert edges & SIM_COMMANDS == SIM_COMMANDS  # the allowance is still needed


def test_the_web_package_imports_workers_only_where_allowed():
    edges = {
        (found.importer, our_module(found.target) or found.target)
        for found in IMPORTS
        if within(found.importer, "switchboard") and within(found.target, "workers")
    }
    assert sorted(edges - WEB_TO_WORKERS.keys()) == []
    assert sorted(WEB_TO_WORKERS.keys() - edges) == []  # no stale allowances


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for found in IMPORTS:
        if found.lazy or found.typing_only:
            continue
        target = our_module(found.target)
        if target is not None and target != found.importer:
            graph[found.importer].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert strongly_connected(import_graph()) == []
