"""A Storage SCP: PACS and modalities push studies to nenscope, which queues analyses by rule.

Each received instance is imported at once (content-addressed, idempotent). When the
association is released, every study it brought is checked against the queue rules, e.g.
"every PT series with a DOTATATE radiopharmaceutical"; a matching study that has no analysis
yet gets one queued (audited as the service's own action).

Rules live in ``pacs.toml``::

    [[rules]]
    modality = "PT"
    radiopharmaceutical_contains = "DOTATATE"
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from sqlalchemy import select

from nenscope.core.errors import OptionError, WorkbenchError
from nenscope.pacs.dimse import STORAGE_SOP_CLASSES
from nenscope.pacs.nodes import PACS_FILE
from nenscope.store.analyses import has_analysis, queue_analysis
from nenscope.store.db import Store
from nenscope.store.imports import import_instances
from nenscope.store.models import Series

__all__ = ["QueueRule", "StorageScp", "load_rules", "study_matches"]

_log = logging.getLogger(__name__)

STATUS_SUCCESS = 0x0000
STATUS_CANNOT_UNDERSTAND = 0xC000
"""C-STORE status for an instance that cannot be stored (PS3.4 Table B.2-1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRule:
    """Queue an analysis when a series of ``modality`` has a matching radiopharmaceutical.

    ``radiopharmaceutical_contains`` is matched case-insensitively; ``""`` matches any.
    """

    modality: str = "PT"
    radiopharmaceutical_contains: str = ""

    def matches(self, modality: str, radiopharmaceutical: str) -> bool:
        """Whether one series satisfies the rule."""
        return modality.upper() == self.modality.upper() and (
            self.radiopharmaceutical_contains.lower() in radiopharmaceutical.lower()
        )


def load_rules(data_dir: Path) -> tuple[QueueRule, ...]:
    """Read the ``[[rules]]`` of ``pacs.toml`` (none when the file or the table is absent)."""
    path = data_dir / PACS_FILE
    if not path.exists():
        return ()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as err:
        raise OptionError(f"{path}: not readable TOML ({err}).") from err
    rules = []
    for entry in table.get("rules", []):
        if not isinstance(entry, Mapping) or set(entry) - {
            "modality",
            "radiopharmaceutical_contains",
        }:
            raise OptionError(
                f"{path}: each [[rules]] takes modality and radiopharmaceutical_contains only."
            )
        rules.append(
            QueueRule(
                modality=str(entry.get("modality", "PT")),
                radiopharmaceutical_contains=str(entry.get("radiopharmaceutical_contains", "")),
            )
        )
    return tuple(rules)


def study_matches(store: Store, study_id: int, rules: Sequence[QueueRule]) -> bool:
    """Whether any series of the study satisfies any rule."""
    with store.session() as session:
        series = session.execute(
            select(Series.modality, Series.radiopharmaceutical).where(Series.study_id == study_id)
        ).all()
    return any(rule.matches(m, r) for rule in rules for m, r in series)


class StorageScp:
    """A C-STORE (and C-ECHO) server on ``host:port`` that imports into ``store``.

    Parameters
    ----------
    store
        Where received instances go.
    ae_title
        Our AE title.
    host, port
        Address to listen on (loopback by default).
    rules
        Queue rules; none = store only.
    on_queued
        Called after an analysis was queued (e.g. to wake the job runner).
    """

    def __init__(
        self,
        store: Store,
        *,
        ae_title: str = "NENSCOPE",
        host: str = "127.0.0.1",
        port: int = 11112,
        rules: Iterable[QueueRule] = (),
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._rules = tuple(rules)
        self._on_queued = on_queued
        self._address = (host, port)
        self._ae = AE(ae_title=ae_title)
        self._ae.add_supported_context(Verification)
        for sop_class in STORAGE_SOP_CLASSES:
            self._ae.add_supported_context(sop_class)
        self._server: object | None = None
        self._received: dict[int, set[int]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start listening (in background threads)."""
        handlers: list[evt.EventHandlerType] = [
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_RELEASED, self._on_end),
            (evt.EVT_ABORTED, self._on_end),
        ]
        self._server = self._ae.start_server(self._address, block=False, evt_handlers=handlers)

    def stop(self) -> None:
        """Stop listening."""
        self._ae.shutdown()

    def _on_store(self, event: evt.Event) -> int:
        calling = str(event.assoc.requestor.ae_title).strip()
        try:
            result = import_instances(
                self._store,
                [(f"C-STORE from {calling}", bytes(event.encoded_dataset()))],
                user=None,
                source=f"scp:{calling}",
            )
        except WorkbenchError as err:
            _log.warning("Storage SCP refused an instance from %s: %s", calling, err)
            return STATUS_CANNOT_UNDERSTAND
        with self._lock:
            self._received.setdefault(id(event.assoc), set()).add(result.study_id)
        return STATUS_SUCCESS

    def _on_end(self, event: evt.Event) -> None:
        with self._lock:
            studies = self._received.pop(id(event.assoc), set())
        for study_id in sorted(studies):
            if not self._rules or has_analysis(self._store, study_id):
                continue
            if study_matches(self._store, study_id, self._rules):
                queue_analysis(self._store, study_id, {}, user=None)
                if self._on_queued is not None:
                    self._on_queued()
