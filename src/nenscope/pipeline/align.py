"""The one registration policy of the pipeline: when and how two studies are aligned.

Response (baseline ↔ follow-up) and NETPET (SSTR ↔ FDG) both use :func:`align_studies`:

* both studies name the same frame of reference: they share scanner coordinates, no
  registration;
* a study has no CT: lesions are matched in scanner coordinates (the patient may have moved);
* otherwise the moving CT is registered rigidly onto the fixed CT
  (:func:`nenscope.registration.register_ct`); a failed registration is matched without it,
  with the reason.

Each caller words its own report text from the :class:`Alignment`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nenscope.core.errors import WorkbenchError
from nenscope.pipeline.model import StudyData
from nenscope.pipeline.stages import Stages
from nenscope.registration import Registration, register_ct

__all__ = ["AlignOutcome", "Alignment", "align_studies"]


class AlignOutcome(StrEnum):
    """How two studies were aligned."""

    SAME_FRAME = "same-frame"
    NO_CT = "no-ct"
    FAILED = "failed"
    REGISTERED = "registered"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alignment:
    """The outcome of :func:`align_studies`; ``registration`` maps moving LPS to fixed LPS."""

    outcome: AlignOutcome
    registration: Registration | None = None
    reason: str = ""


def align_studies(stages: Stages, fixed: StudyData, moving: StudyData) -> Alignment:
    """Align ``moving`` onto ``fixed`` by the pipeline's one policy (see the module notes)."""
    frame = fixed.suv.frame_of_reference_uid
    if frame is not None and frame == moving.suv.frame_of_reference_uid:
        return Alignment(outcome=AlignOutcome.SAME_FRAME)
    if fixed.ct is None or moving.ct is None:
        return Alignment(outcome=AlignOutcome.NO_CT)
    with stages.stage("registration"):
        try:
            registration = register_ct(fixed.ct.volume, moving.ct.volume)
        except WorkbenchError as err:
            return Alignment(outcome=AlignOutcome.FAILED, reason=str(err))
    return Alignment(outcome=AlignOutcome.REGISTERED, registration=registration)
