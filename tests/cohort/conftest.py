"""Fixtures shared with the CLI tests."""

from tests.cli.conftest import nenscope_cli as nenscope_cli
