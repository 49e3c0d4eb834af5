"""Every module that src/ and tests/ import comes from a dependency declared in pyproject.toml.

CI installs only ``pip install -e ".[dev]"`` into a fresh virtual environment, so a module that
happens to be on a developer's machine must not be what makes a test pass. Two rules:

- ``tests/`` may import what ``.[dev]`` installs: the base dependencies, the ``dev`` extra and
  every extra ``dev`` names (it names ``nenscope[all]``).
- ``src/`` modules import the base dependencies at module level, so ``pip install nenscope``
  runs the core commands; an optional part (``store``, ``pacs``, ``web``, ``cohort``,
  ``models``) may import any declared extra, and so may a *lazy* import anywhere (inside a
  function, or guarded by ``except ImportError``), which the code then reports clearly when the
  extra is missing.

A transitive dependency does not count: it can disappear with the next release of whatever
pulls it in.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "nenscope"
TESTS = ROOT / "tests"

OPTIONAL_PARTS = ("store", "pacs", "jobs", "web", "cohort", "models")
"""Subpackages of nenscope that belong to an optional extra, not to the base install."""

IMPORT_TO_DISTRIBUTION = {
    "yaml": "pyyaml",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "dateutil": "python-dateutil",
    "SimpleITK": "simpleitk",
    "psycopg": "psycopg",
    "multipart": "python-multipart",
    "radiomics": "pyradiomics-bhklab",
    "totalsegmentator": "totalsegmentator",
    "dicomweb_client": "dicomweb-client",
}
"""Import names whose distribution is not installed here (an optional extra) or differs in name."""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.split(r"[<>=!~\[;@ ]", requirement.strip(), maxsplit=1)[0])


def _self_extras(requirement: str) -> list[str]:
    match = re.fullmatch(r"\s*nenscope\[([^\]]+)\]\s*", requirement)
    return [e.strip() for e in match.group(1).split(",")] if match else []


@dataclass(frozen=True)
class Declared:
    """Distribution names declared in pyproject.toml, by what installs them."""

    base: frozenset[str]
    dev: frozenset[str]
    any_extra: frozenset[str]


@functools.cache
def _declared() -> Declared:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})

    def resolve(extra: str, seen: frozenset[str] = frozenset()) -> set[str]:
        names: set[str] = set()
        for requirement in extras.get(extra, []):
            nested = _self_extras(requirement)
            if nested:
                for name in nested:
                    if name not in seen:
                        names |= resolve(name, seen | {extra})
            else:
                names.add(_requirement_name(requirement))
        return names

    base = frozenset(_requirement_name(r) for r in project.get("dependencies", []))
    every = set(base)
    for extra in extras:
        every |= resolve(extra)
    return Declared(base=base, dev=base | resolve("dev"), any_extra=frozenset(every))


@dataclass(frozen=True)
class Import:
    """One top-level module imported by a file, and whether it is imported lazily."""

    module: str
    line: int
    lazy: bool


def _imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(node: ast.AST, lazy: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            child_lazy = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Try) and any(
                _catches_import_error(handler) for handler in child.handlers
            ):
                child_lazy = True
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name.split(".")[0], child.lineno, child_lazy)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                yield Import(child.module.split(".")[0], child.lineno, child_lazy)
            yield from visit(child, child_lazy)

    yield from visit(tree, lazy=False)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = []
    if isinstance(handler.type, ast.Name):
        names = [handler.type.id]
    elif isinstance(handler.type, ast.Tuple):
        names = [e.id for e in handler.type.elts if isinstance(e, ast.Name)]
    return bool({"ImportError", "ModuleNotFoundError"} & set(names))


@functools.cache
def _local_modules() -> frozenset[str]:
    names = {"nenscope", "tests", "conftest"}
    for path in TESTS.rglob("*.py"):
        names.add(path.stem)
    for path in TESTS.rglob("*"):
        if path.is_dir():
            names.add(path.name)
    return frozenset(names)


@functools.cache
def _installed() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    found = {_normalise(d) for d in _installed().get(module, [])}
    return found or {_normalise(IMPORT_TO_DISTRIBUTION.get(module, module))}


def _undeclared(
    files: list[Path],
    allowed_for: dict[Path, tuple[str, frozenset[str]]],
    *,
    lazy_allowed: frozenset[str] | None = None,
) -> list[str]:
    """Messages for imports that no allowed declaration provides.

    ``lazy_allowed``, when given, is what a lazy import (inside a function or guarded by
    ``except ImportError``) may come from instead of the file's own allowance.
    """
    local = _local_modules()
    problems = []
    for path in files:
        for imported in _imports(path):
            if imported.module in sys.stdlib_module_names or imported.module in local:
                continue
            what, allowed = allowed_for[path]
            if imported.lazy and lazy_allowed is not None:
                what, allowed = "any extra", lazy_allowed
            if not _distributions(imported.module) & allowed:
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                problems.append(
                    f"{shown}:{imported.line} imports {imported.module!r} "
                    f"({', '.join(sorted(_distributions(imported.module)))}), which {what} "
                    "does not declare; add it to pyproject.toml"
                )
    return problems


def test_tests_import_only_what_the_dev_extra_installs() -> None:
    declared = _declared()
    files = sorted(TESTS.rglob("*.py"))
    allowed = dict.fromkeys(files, ("the dev extra (and what it names)", declared.dev))
    assert _undeclared(files, allowed) == []


def test_src_imports_only_declared_dependencies() -> None:
    declared = _declared()
    files = sorted(SRC.rglob("*.py"))
    allowed: dict[Path, tuple[str, frozenset[str]]] = {}
    for path in files:
        part = path.relative_to(SRC).parts[0]
        if part in OPTIONAL_PARTS:
            allowed[path] = (f"an extra (nenscope.{part} is optional)", declared.any_extra)
        else:
            allowed[path] = ("the base dependencies (module-level import)", declared.base)
    assert _undeclared(files, allowed, lazy_allowed=declared.any_extra) == []


@pytest.mark.parametrize(
    ("source", "base_only", "flagged"),
    [
        ("import pandas\n", False, True),
        ("def f():\n    import pandas\n", False, False),
        ("try:\n    import pandas\nexcept ImportError:\n    pandas = None\n", False, False),
        ("def f():\n    import pandas\n", True, True),
        ("import numpy\n", False, False),
    ],
)
def test_the_check_itself(tmp_path: Path, source: str, base_only: bool, flagged: bool) -> None:
    # pandas is declared only for the tests, not in the base dependencies: a module-level
    # import of it from the package is caught; a lazy one counts against the extras, and is
    # caught too when no extra declares it.
    declared = _declared()
    target = tmp_path / "probe.py"
    target.write_text(source, encoding="utf-8")
    lazy_allowed = declared.base if base_only else declared.dev
    problems = _undeclared([target], {target: ("base", declared.base)}, lazy_allowed=lazy_allowed)
    assert bool(problems) is flagged, problems


def test_dev_extra_spells_out_every_optional_part_with_the_same_pins() -> None:
    # CI installs `.[dev]`; dev lists each optional part's requirements itself (no
    # self-reference), and a pin changed in one place only would let the two drift apart.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    dev = set(extras["dev"])
    for part in ("service", "web", "cohort", "models"):
        missing = [r for r in extras[part] if not _self_extras(r) and r not in dev]
        assert missing == [], f"the {part} extra's {missing} are not in dev (same pin)"
