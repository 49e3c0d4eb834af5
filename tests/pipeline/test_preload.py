"""The background imports of the output libraries run with the cycle collector paused.

Issue 10 item 6: imports make lasting objects and no garbage; collections during them only
walked the analysis's objects again. The collector is restored afterwards, also when an
import fails.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from nenscope.pipeline.preload import preload


def test_background_imports_pause_the_collector_and_restore_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "nenscope_probe_ok.py").write_text("import gc\nENABLED = gc.isenabled()\n")
    (tmp_path / "nenscope_probe_bad.py").write_text("raise ImportError('probe')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("nenscope_probe_ok", "nenscope_probe_bad"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert gc.isenabled()

    thread = preload(["nenscope_probe_ok", "nenscope_probe_bad"])
    assert thread is not None
    thread.join(timeout=60)

    assert not thread.is_alive()
    assert sys.modules["nenscope_probe_ok"].ENABLED is False
    assert "nenscope_probe_bad" not in sys.modules  # its stage's own import raises it again
    assert gc.isenabled()
    monkeypatch.delitem(sys.modules, "nenscope_probe_ok")
