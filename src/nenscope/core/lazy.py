"""Public names of a package loaded on first access (PEP 562), in one place.

A package's ``__init__`` lists ``name → defining module`` and gets its module-level
``__getattr__`` and ``__dir__`` from :func:`lazy_exports`; importing the package then stays
cheap and each command loads only what it uses (issue 9 item 6). The names are also imported
under ``TYPE_CHECKING`` so that mypy and readers see where they come from;
``tests/test_import_cost.py`` checks that the table, ``__all__`` and those imports agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package`` from its ``name → module`` table.

    Parameters
    ----------
    package
        The package's ``__name__`` (for the error message).
    table
        Public name → module that defines it.
    namespace
        The package's ``globals()``: a name, once loaded, is stored there so that later
        look-ups skip ``__getattr__``.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("pkg", {"sqrt": "math"}, namespace := {})
    >>> getattr_("sqrt")(9.0), "sqrt" in namespace, dir_()
    (3.0, True, ['sqrt'])
    """

    def get_attribute(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def list_names() -> list[str]:
        return sorted(set(namespace) | set(table))

    return get_attribute, list_names
