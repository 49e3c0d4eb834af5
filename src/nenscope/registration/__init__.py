"""Image registration (CT onto CT, rigid) for response assessment and NETPET.

It sits between the pure computing packages and :mod:`nenscope.pipeline`: it uses SimpleITK
(an I/O-free but non-numpy library), takes :class:`~nenscope.core.geometry.ImageVolume` in and
gives a :class:`Registration` (a 4 x 4 LPS transform) out.
"""

from __future__ import annotations

from nenscope.registration.rigid import REGISTRATION_SPACING_MM, Registration, register_ct, to_sitk

__all__ = ["REGISTRATION_SPACING_MM", "Registration", "register_ct", "to_sitk"]
