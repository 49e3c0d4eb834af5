"""The README's contract: it opens with exactly two set-up commands (run the demo; run the tests).

The first must work on a stock Debian/Ubuntu python3, whose system pip refuses to install
(`externally-managed-environment`) and which may lack the `python3-venv` package; the second
is what CI runs.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    assert block is not None, "README.md must open with a ```bash block of two commands"
    assert text.split("\n", 1)[1].lstrip().startswith(block.group(0)), "the block comes first"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands() -> None:
    commands = _setup_commands()
    assert len(commands) == 2, commands
    assert commands[1] == "bash .ci/run"


def test_the_demo_command_installs_into_its_own_venv_without_ensurepip() -> None:
    first = _setup_commands()[0]
    assert not first.startswith("pip install"), "the system pip refuses on stock Debian"
    # `python3 -m venv` without --without-pip needs Debian's python3-venv (ensurepip).
    assert "python3 -m venv --without-pip .venv" in first
    assert "--python .venv/bin/python install ." in first
    assert first.endswith(".venv/bin/nenscope demo")


def test_ci_script_creates_its_own_venv() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv" in script
    assert "activate" not in script, ".ci/run must not depend on an activated venv"
    assert 'pip install -q -e ".[dev]"' in script
