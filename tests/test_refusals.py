"""Every refusal of the pure packages is a WorkbenchError (issue 9, part 3; STYLE 8.1).

A bare ``ValueError`` made callers catch ``ValueError`` (and worse) around every call; the
pure packages raise the subclass that says what went wrong (``InvalidArgumentError``,
``ImpossibleValueError``, ``NotComputableError``, ``GeometryError``, ``OptionError``, ...),
which are ``ValueError`` too, so older callers still work.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nenscope.core import errors

SRC = Path(__file__).resolve().parents[1] / "src" / "nenscope"
PURE = ("core", "quantification", "segmentation", "radiomics", "scoring")
BUILTINS = {"ValueError", "TypeError", "KeyError", "IndexError", "RuntimeError", "Exception"}

ALLOWED: dict[str, str] = {
    "quantification/lesions.py TypeError": "a label map of floats is a caller's programming "
    "error (wrong dtype), not bad input data: TypeError, as numpy does",
}
"""``path Builtin`` → why that builtin is raised in that module."""


def _bare_raises(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in BUILTINS:
            found.append(f"{path.relative_to(SRC)}:{node.lineno} {exc.id}")
    return found


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_raise_workbench_errors(package: str) -> None:
    bad = [
        hit
        for path in sorted((SRC / package).rglob("*.py"))
        for hit in _bare_raises(path)
        if f"{hit.split(':')[0]} {hit.split(' ')[-1]}" not in ALLOWED
    ]
    assert not bad, f"raise a WorkbenchError subclass instead (core/errors.py): {bad}"


def test_every_error_is_also_its_builtin() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        if issubclass(cls, Warning):
            continue
        assert issubclass(cls, errors.WorkbenchError), name
        assert cls is errors.WorkbenchError or issubclass(cls, ValueError | KeyError), name
