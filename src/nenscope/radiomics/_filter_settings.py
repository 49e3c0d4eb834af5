"""The optional ``filter:`` step of the radiomics settings (IBSI 2 convolutional filters).

Parsed and validated at load, in the IBSI 2 vocabulary; :mod:`nenscope.radiomics.settings`
re-exports the public names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nenscope.core.enums import parse_option, suggest
from nenscope.core.errors import OptionError
from nenscope.radiomics.filters._common import BoundaryMode, Pooling
from nenscope.radiomics.filters.laws import LAWS_KERNELS
from nenscope.radiomics.filters.wavelets import WaveletFamily

__all__ = [
    "FilterDimension",
    "FilterSettings",
    "FilterType",
    "parse_filter",
]


class FilterType(StrEnum):
    """IBSI 2 filter families (reference manual chapter 2); ``none`` is the identity.

    ``none`` (IBSI 2 phase-2 configuration 1) takes the statistics of the unfiltered image
    through the same chain as a filter.
    """

    NONE = "none"
    MEAN = "mean"
    LOG = "log"
    LAWS = "laws"
    GABOR = "gabor"
    WAVELET = "wavelet"
    SIMONCELLI = "simoncelli"
    RIESZ = "riesz"


class FilterDimension(StrEnum):
    """IBSI 2 filter dimension: ``2d`` filters each axial slice, ``3d`` the volume.

    For Gabor, ``3d`` is IBSI 2's "2D with orthogonal planes" (axial, coronal and sagittal
    responses averaged).
    """

    D2 = "2d"
    D3 = "3d"


_COMMON_KEYS = ("type", "dimension", "boundary")
_TYPE_KEYS: dict[FilterType, tuple[str, ...]] = {
    FilterType.NONE: ("type", "dimension"),
    FilterType.MEAN: (*_COMMON_KEYS, "support"),
    FilterType.LOG: (*_COMMON_KEYS, "sigma_mm", "cutoff"),
    FilterType.LAWS: (
        *_COMMON_KEYS,
        "kernel",
        "energy_distance",
        "rotation_invariant",
        "pooling",
    ),
    FilterType.GABOR: (
        *_COMMON_KEYS,
        "sigma_mm",
        "lambda_mm",
        "gamma",
        "theta_step_deg",
        "pooling",
    ),
    FilterType.WAVELET: (
        *_COMMON_KEYS,
        "family",
        "level",
        "sub_band",
        "rotation_invariant",
        "pooling",
    ),
    # Simoncelli and Riesz act in the Fourier domain: the boundary is periodic by construction.
    FilterType.SIMONCELLI: ("type", "dimension", "level"),
    FilterType.RIESZ: ("type", "dimension", "order"),
}
_REQUIRED: dict[FilterType, tuple[str, ...]] = {
    FilterType.NONE: (),
    FilterType.MEAN: ("support",),
    FilterType.LOG: ("sigma_mm",),
    FilterType.LAWS: ("kernel",),
    FilterType.GABOR: ("sigma_mm", "lambda_mm", "gamma", "theta_step_deg"),
    FilterType.WAVELET: ("family", "sub_band"),
    FilterType.SIMONCELLI: ("level",),
    FilterType.RIESZ: ("order",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterSettings:
    """One IBSI 2 convolutional filter applied before feature extraction.

    Parameters
    ----------
    type
        Filter family.
    dimension
        ``2d`` (slice by slice) or ``3d``.
    boundary
        Padding at the image edge (``zero`` pads with 0; YAML also accepts ``constant``).
    support
        Mean filter: support in voxels (odd, >= 1).
    sigma_mm
        LoG and Gabor: scale σ in mm.
    cutoff
        LoG: kernel half-width in units of σ (IBSI 2 uses 4).
    kernel
        Laws: 1-D kernel names, x first, e.g. ``L5E5E5`` (3d) or ``L5E5`` (2d).
    energy_distance
        Laws: Chebyshev distance δ of the energy map in voxels; ``None`` gives no energy map.
    rotation_invariant
        Laws and wavelets: pool the responses to the kernels rotated by every right angle.
    pooling
        Pooling of rotated (Laws, wavelet) or oriented (Gabor, mean only) responses.
    lambda_mm, gamma, theta_step_deg
        Gabor: wavelength λ in mm, aspect ratio γ, and orientation step; the orientations
        ``k · step`` in ``[0°, 180°)`` are averaged (``180`` gives one orientation, θ = 0).
    family, level, sub_band
        Wavelets: family, decomposition level (>= 1) and sub-band, one letter per axis, x
        first (``LLH`` in 3d, ``LH`` in 2d). ``level`` is also the Simoncelli level.
    order
        Riesz: derivative orders along x, y (and z in 3d).
    """

    type: FilterType
    dimension: FilterDimension = FilterDimension.D3
    boundary: BoundaryMode = BoundaryMode.MIRROR
    support: int | None = None
    sigma_mm: float | None = None
    cutoff: float = 4.0
    kernel: str | None = None
    energy_distance: int | None = None
    rotation_invariant: bool = False
    pooling: Pooling | None = None
    lambda_mm: float | None = None
    gamma: float | None = None
    theta_step_deg: float | None = None
    family: WaveletFamily | None = None
    level: int = 1
    sub_band: str | None = None
    order: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        where = f"filter ({self.type})"
        missing = [key for key in _REQUIRED[self.type] if getattr(self, key) is None]
        if missing:
            raise OptionError(f"A {self.type} filter needs filter.{', filter.'.join(missing)}.")
        self._check_numbers(where)
        self._check_axes(where)
        if self.type is FilterType.GABOR and self.pooling not in (None, Pooling.MEAN):
            raise OptionError(f"{where}: Gabor orientations are pooled by mean only.")

    def _check_numbers(self, where: str) -> None:
        if self.support is not None and (self.support < 1 or self.support % 2 == 0):
            raise OptionError(f"{where}: support must be an odd integer >= 1, got {self.support}.")
        for name in ("sigma_mm", "cutoff", "lambda_mm", "gamma", "theta_step_deg"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise OptionError(f"{where}: {name} must be > 0, got {value}.")
        if self.theta_step_deg is not None and self.theta_step_deg > 180.0:
            raise OptionError(
                f"{where}: theta_step_deg must be <= 180, got {self.theta_step_deg}."
            )
        if self.energy_distance is not None and self.energy_distance < 0:
            raise OptionError(
                f"{where}: energy_distance must be >= 0, got {self.energy_distance}."
            )
        if self.level < 1:
            raise OptionError(f"{where}: level must be >= 1, got {self.level}.")

    def _check_axes(self, where: str) -> None:
        """Kernel names, sub-band letters and Riesz orders: one per filtered axis."""
        n_axes = 2 if self.dimension is FilterDimension.D2 else 3
        example = {"kernel": "L5E5E5", "sub_band": "LLH", "order": "[1, 0, 0]"}
        if n_axes == 2:
            example = {"kernel": "L5E5", "sub_band": "LH", "order": "[1, 0]"}
        if self.kernel is not None:
            names = re.findall(r"[A-Z]\d", self.kernel)
            if (
                "".join(names) != self.kernel
                or len(names) != n_axes
                or any(n not in LAWS_KERNELS for n in names)
            ):
                bad = next((n for n in names if n not in LAWS_KERNELS), self.kernel)
                raise OptionError(
                    f"{where}: kernel '{self.kernel}' must name {n_axes} 1-D Laws kernels for "
                    f"dimension {self.dimension}, x first (e.g. {example['kernel']}). "
                    f"{suggest(bad, list(LAWS_KERNELS))}"
                )
        if self.sub_band is not None and not re.fullmatch(f"[LH]{{{n_axes}}}", self.sub_band):
            raise OptionError(
                f"{where}: sub_band must be {n_axes} letters L/H for dimension "
                f"{self.dimension}, x first (e.g. {example['sub_band']}), got '{self.sub_band}'."
            )
        if self.order is not None and (
            len(self.order) != n_axes or any(o < 0 for o in self.order) or sum(self.order) == 0
        ):
            raise OptionError(
                f"{where}: order must be {n_axes} non-negative integers, x first, not all 0 "
                f"(e.g. {example['order']}), got {list(self.order)}."
            )

    def to_mapping(self) -> dict[str, Any]:
        """Return the filter in the YAML vocabulary, only the keys its type uses."""
        out: dict[str, Any] = {}
        for key in _TYPE_KEYS[self.type]:
            value = getattr(self, key)
            if key == "order" and value is not None:
                value = list(value)
            elif isinstance(value, StrEnum):
                value = value.value
            if key == "pooling" and value is None:
                continue
            out[key] = value
        return out


def _number(raw: Mapping[str, Any], key: str, *, integer: bool = False) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionError(f"filter.{key} must be a number, got {value!r}.")
    if integer:
        if float(value) != int(value):
            raise OptionError(f"filter.{key} must be an integer, got {value!r}.")
        return int(value)
    return float(value)


def _boolean(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise OptionError(f"filter.{key} must be true or false, got {value!r}.")
    return value


def parse_filter(raw: Mapping[str, Any]) -> FilterSettings:
    """Build :class:`FilterSettings` from the ``filter:`` mapping of a settings file.

    Raises
    ------
    OptionError
        For an unknown key or value (with the closest valid one), a missing parameter, or a
        value out of range.

    Examples
    --------
    >>> f = parse_filter({"type": "log", "sigma_mm": 1.5, "boundary": "mirror"})
    >>> f.type, f.sigma_mm, f.cutoff
    (<FilterType.LOG: 'log'>, 1.5, 4.0)
    """
    if not isinstance(raw, Mapping):
        raise OptionError(f"Radiomics settings: 'filter' must be a mapping, got {raw!r}.")
    kind = parse_option(str(raw.get("type", "")), FilterType, what="filter.type")
    valid = _TYPE_KEYS[kind]
    for key in raw:
        if key not in valid:
            raise OptionError(
                f"Unknown radiomics setting 'filter.{key}' for a {kind} filter. "
                f"{suggest(str(key), list(valid))}"
            )
    boundary = str(raw.get("boundary", "mirror"))
    order = raw.get("order")
    if order is not None and (
        not isinstance(order, list | tuple)
        or any(isinstance(o, bool) or not isinstance(o, int) for o in order)
    ):
        raise OptionError(f"filter.order must be a list of integers, got {order!r}.")
    return FilterSettings(
        type=kind,
        dimension=parse_option(
            str(raw.get("dimension", "3d")), FilterDimension, what="filter.dimension"
        ),
        boundary=parse_option(
            "zero" if boundary == "constant" else boundary, BoundaryMode, what="filter.boundary"
        ),
        support=_number(raw, "support", integer=True),
        sigma_mm=_number(raw, "sigma_mm"),
        cutoff=4.0 if raw.get("cutoff") is None else _number(raw, "cutoff"),
        kernel=str(raw["kernel"]).upper() if raw.get("kernel") is not None else None,
        energy_distance=_number(raw, "energy_distance", integer=True),
        rotation_invariant=_boolean(raw, "rotation_invariant"),
        pooling=(
            parse_option(str(raw["pooling"]), Pooling, what="filter.pooling")
            if raw.get("pooling") is not None
            else None
        ),
        lambda_mm=_number(raw, "lambda_mm"),
        gamma=_number(raw, "gamma"),
        theta_step_deg=_number(raw, "theta_step_deg"),
        family=(
            parse_option(str(raw["family"]), WaveletFamily, what="filter.family")
            if raw.get("family") is not None
            else None
        ),
        level=1 if raw.get("level") is None else _number(raw, "level", integer=True),
        sub_band=str(raw["sub_band"]).upper() if raw.get("sub_band") is not None else None,
        order=tuple(order) if order is not None else None,
    )
