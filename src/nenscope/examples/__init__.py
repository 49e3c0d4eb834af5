"""Bundled example scenarios (package data) for ``nenscope recommend --example NAME``."""

from __future__ import annotations

from importlib import resources

__all__ = ["list_examples"]


def list_examples() -> list[str]:
    """Names of the bundled example scenarios (``scenario-<name>.yaml`` → ``<name>``).

    Examples
    --------
    >>> "si-net-staging" in list_examples()
    True
    """
    root = resources.files("nenscope.examples")
    return sorted(
        p.name.removeprefix("scenario-").removesuffix(".yaml")
        for p in root.iterdir()
        if p.name.startswith("scenario-") and p.name.endswith(".yaml")
    )
