"""``quiet_pydicom`` and the de-identifier are thread-safe (issue 9, part 4).

``warnings.catch_warnings`` saves and restores the warnings module's process-global filters;
two threads that enter and leave such blocks interleaved restore each other's state and can
leave the filters silenced for good (thread A saves F0 and sets "ignore", thread B saves
"ignore", A restores F0, B restores "ignore"). The blocks now hold one re-entrant lock.
"""

from __future__ import annotations

import threading
import time
import warnings

from nenscope.core.diagnostics import capture_library_warnings, collect_warnings
from nenscope.dicom._io import quiet_pydicom


def test_interleaved_quiet_blocks_restore_the_filters() -> None:
    before = list(warnings.filters)
    start = threading.Barrier(8)

    def read(delay_s: float) -> None:
        start.wait()
        with quiet_pydicom():
            warnings.warn("pydicom-style value warning", UserWarning, stacklevel=1)
            time.sleep(delay_s)

    threads = [threading.Thread(target=read, args=(0.001 * (i % 3),)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert warnings.filters == before


def test_quiet_block_nests_in_a_capture_block() -> None:
    # The lock is re-entrant: a reader called inside capture_library_warnings (same thread)
    # does not deadlock, and its silenced warning does not reach the capture.
    with collect_warnings() as caught, capture_library_warnings():
        with quiet_pydicom():
            warnings.warn("dropped", UserWarning, stacklevel=1)
        warnings.warn("kept", UserWarning, stacklevel=1)
    assert caught == ["kept"]
