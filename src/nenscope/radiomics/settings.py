"""Radiomics settings: the IBSI image-processing chain as frozen value objects (DESIGN.md).

The settings file (``--config``) is either a named preset (``ibsi-a`` … ``ibsi-e``,
``ibsi-phantom``, ``pet-suv``, ``ct-hu``, ``mr-adc``, and the IBSI 2 phase-2 configurations
``ibsi2-1a`` … ``ibsi2-9b``) shipped as package data in ``radiomics/presets/*.yaml``, or a YAML
file with the same keys. Omitted steps are skipped; the optional ``filter`` step (an IBSI 2
convolutional filter, :class:`FilterSettings`) makes the features those of its response map.
User strings are converted once, here, with :func:`nenscope.core.parse_option` (STYLE 8.4).

Notes
-----
The order of the chain follows the IBSI 1 reference manual, chapter 2 ("Image processing"):
interpolation (image and ROI mask), intensity rounding, ROI re-segmentation by range and by
outliers, then discretisation of the intensity mask for the intensity histogram and the texture
families (the intensity-volume histogram may use its own discretisation).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from nenscope.core.enums import parse_option, suggest
from nenscope.core.errors import OptionError
from nenscope.core.units import Unit
from nenscope.radiomics._filter_settings import (
    FilterDimension,
    FilterSettings,
    FilterType,
    parse_filter,
)

__all__ = [
    "Approach",
    "DiscretisationMethod",
    "DiscretisationSettings",
    "FilterDimension",
    "FilterSettings",
    "FilterType",
    "Interpolation",
    "RadiomicsSettings",
    "ResampleSettings",
    "ResegmentSettings",
    "list_presets",
    "load_settings",
    "settings_from_mapping",
]


class Approach(StrEnum):
    """Texture aggregation approach of IBSI 1 (section 3.1.2, "Feature aggregation").

    ``2d`` computes per slice, ``2.5d`` merges slices per direction, ``3d`` uses the volume.
    """

    D2 = "2d"
    D25 = "2.5d"
    D3 = "3d"


class Interpolation(StrEnum):
    """Image interpolation for resampling (IBSI 1 section 2.4)."""

    NEAREST = "nearest"
    LINEAR = "linear"
    CUBIC = "cubic"


class DiscretisationMethod(StrEnum):
    """Intensity discretisation (IBSI 1 section 2.7); ``none`` uses the intensities as levels."""

    FIXED_BIN_SIZE = "fixed-bin-size"
    FIXED_BIN_NUMBER = "fixed-bin-number"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResampleSettings:
    """Interpolation to a new grid (IBSI 1 section 2.4) and ROI mask interpolation.

    Parameters
    ----------
    spacing_mm
        New voxel size in mm as ``(x, y, z)``; ``None`` keeps the original spacing of that
        axis (IBSI 2D configurations resample in-plane only).
    interpolation
        Image interpolation.
    mask_interpolation
        Interpolation of the ROI mask before the partial-volume threshold.
    mask_threshold
        Partial-volume threshold: interpolated mask values ``>= mask_threshold`` are in the ROI.
    round_intensities
        Round interpolated intensities to the nearest integer (IBSI for CT in HU).
    """

    spacing_mm: tuple[float | None, float | None, float | None]
    interpolation: Interpolation = Interpolation.LINEAR
    mask_interpolation: Interpolation = Interpolation.LINEAR
    mask_threshold: float = 0.5
    round_intensities: bool = False

    def __post_init__(self) -> None:
        if any(s is not None and s <= 0 for s in self.spacing_mm):
            raise OptionError(
                f"resample.spacing_mm must be 3 positive values (x, y, z) or null, "
                f"got {list(self.spacing_mm)}."
            )
        if not 0.0 < self.mask_threshold <= 1.0:
            raise OptionError(
                f"resample.mask_threshold must be in (0, 1], got {self.mask_threshold}."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResegmentSettings:
    """ROI re-segmentation (IBSI 1 section 2.5), applied to the intensity mask only.

    Parameters
    ----------
    range_min, range_max
        Keep voxels with ``range_min <= I <= range_max``; ``None`` leaves that side open.
    outlier_sigma
        Remove voxels outside ``mean ± outlier_sigma · sd`` of the ROI (after the range step);
        ``None`` skips outlier filtering.
    """

    range_min: float | None = None
    range_max: float | None = None
    outlier_sigma: float | None = None

    def __post_init__(self) -> None:
        if (
            self.range_min is not None
            and self.range_max is not None
            and self.range_min > self.range_max
        ):
            raise OptionError(
                f"resegment.range must be [lower, upper] with lower <= upper, "
                f"got [{self.range_min}, {self.range_max}]."
            )
        if self.outlier_sigma is not None and self.outlier_sigma <= 0:
            raise OptionError(f"resegment.outlier_sigma must be > 0, got {self.outlier_sigma}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscretisationSettings:
    """Intensity discretisation (IBSI 1 section 2.7).

    Parameters
    ----------
    method
        Fixed bin size, fixed bin number, or none (intensities are used as they are; they must
        then be integers >= 1 for texture matrices).
    bin_size
        Bin width in image units (fixed bin size).
    bins
        Number of bins (fixed bin number).
    lower_bound
        Lower edge of the first bin for fixed bin size; ``None`` uses the lower bound of the
        re-segmentation range when set, else the ROI minimum (IBSI 1 section 2.7.2).
    """

    method: DiscretisationMethod
    bin_size: float | None = None
    bins: int | None = None
    lower_bound: float | None = None

    def __post_init__(self) -> None:
        if self.method is DiscretisationMethod.FIXED_BIN_SIZE and not (
            self.bin_size is not None and self.bin_size > 0
        ):
            raise OptionError(
                f"fixed-bin-size discretisation needs bin_size > 0, got {self.bin_size}."
            )
        if self.method is DiscretisationMethod.FIXED_BIN_NUMBER and not (
            self.bins is not None and self.bins >= 1
        ):
            raise OptionError(f"fixed-bin-number discretisation needs bins >= 1, got {self.bins}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class RadiomicsSettings:
    """The whole processing and feature configuration of one extraction.

    Parameters
    ----------
    approach
        Texture aggregation approach.
    resample
        Interpolation settings; ``None`` keeps the image grid.
    resegment
        Re-segmentation settings; ``None`` keeps the mask as given.
    discretise
        Discretisation for the intensity histogram and the texture families; ``None`` means
        no discretisation (intensities must then be integer levels >= 1).
    ivh
        Discretisation for the intensity-volume histogram; ``None`` uses ``discretise``.
    filter
        IBSI 2 convolutional filter; when set, the features are the intensity statistics of
        its response map in the ROI (IBSI 2 phase 2). ``None`` extracts IBSI 1 features.
    name
        Preset name or file the settings came from (recorded beside every output).
    unit
        Unit the settings are made for (a fixed bin size in SUV means nothing for Bq/mL);
        images in another known unit are refused, images of unknown unit
        (:attr:`Unit.UNITLESS`, e.g. plain NIfTI) are accepted. ``None`` accepts any unit.
    """

    approach: Approach = Approach.D3
    resample: ResampleSettings | None = None
    resegment: ResegmentSettings | None = None
    discretise: DiscretisationSettings | None = None
    ivh: DiscretisationSettings | None = None
    filter: FilterSettings | None = None
    name: str = "custom"
    description: str = field(default="", compare=False)
    unit: Unit | None = None

    @property
    def texture_discretisation(self) -> DiscretisationSettings:
        """Discretisation of the texture families and the intensity histogram."""
        return self.discretise or DiscretisationSettings(method=DiscretisationMethod.NONE)

    @property
    def ivh_discretisation(self) -> DiscretisationSettings:
        """Discretisation of the intensity-volume histogram."""
        return self.ivh or self.texture_discretisation

    def to_mapping(self) -> dict[str, Any]:
        """Return the settings as a plain mapping in the YAML vocabulary (for the outputs)."""
        out: dict[str, Any] = {"name": self.name, "approach": self.approach.value}
        if self.unit is not None:
            out["unit"] = self.unit.value
        if self.resample is not None:
            r = self.resample
            out["resample"] = {
                "spacing_mm": list(r.spacing_mm),
                "interpolation": r.interpolation.value,
                "mask_interpolation": r.mask_interpolation.value,
                "mask_threshold": r.mask_threshold,
                "round_intensities": r.round_intensities,
            }
        if self.resegment is not None:
            s = self.resegment
            out["resegment"] = {"range": [s.range_min, s.range_max]}
            if s.outlier_sigma is not None:
                out["resegment"]["outlier_sigma"] = s.outlier_sigma
        if self.discretise is not None:
            out["discretise"] = _discretisation_mapping(self.discretise)
        if self.ivh is not None:
            out["ivh"] = _discretisation_mapping(self.ivh)
        if self.filter is not None:
            out["filter"] = self.filter.to_mapping()
        return out


def _discretisation_mapping(d: DiscretisationSettings) -> dict[str, Any]:
    out: dict[str, Any] = {"method": d.method.value}
    if d.bin_size is not None:
        out["bin_size"] = d.bin_size
    if d.bins is not None:
        out["bins"] = d.bins
    if d.lower_bound is not None:
        out["lower_bound"] = d.lower_bound
    return out


_TOP_KEYS = (
    "name",
    "description",
    "unit",
    "approach",
    "resample",
    "resegment",
    "discretise",
    "ivh",
    "filter",
)
_RESAMPLE_KEYS = (
    "spacing_mm",
    "interpolation",
    "mask_interpolation",
    "mask_threshold",
    "round_intensities",
)
_RESEGMENT_KEYS = ("range", "outlier_sigma")
_DISCRETISE_KEYS = ("method", "bin_size", "bins", "lower_bound")


def _check_keys(mapping: Mapping[str, Any], valid: tuple[str, ...], where: str) -> None:
    if not isinstance(mapping, Mapping):
        raise OptionError(f"Radiomics settings: '{where}' must be a mapping, got {mapping!r}.")
    for key in mapping:
        if key not in valid:
            raise OptionError(
                f"Unknown radiomics setting '{where}.{key}'. {suggest(str(key), list(valid))}"
            )


def _optional_float(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionError(f"Radiomics setting '{what}' must be a number or null, got {value!r}.")
    return float(value)


def _parse_resample(raw: Mapping[str, Any]) -> ResampleSettings:
    _check_keys(raw, _RESAMPLE_KEYS, "resample")
    spacing = raw.get("spacing_mm")
    if not isinstance(spacing, list | tuple) or len(spacing) != 3:
        raise OptionError(f"resample.spacing_mm must be a list [x, y, z], got {spacing!r}.")
    sx, sy, sz = (_optional_float(v, "resample.spacing_mm") for v in spacing)
    return ResampleSettings(
        spacing_mm=(sx, sy, sz),
        interpolation=parse_option(
            raw.get("interpolation", "linear"), Interpolation, what="interpolation"
        ),
        mask_interpolation=parse_option(
            raw.get("mask_interpolation", "linear"), Interpolation, what="mask interpolation"
        ),
        mask_threshold=float(raw.get("mask_threshold", 0.5)),
        round_intensities=bool(raw.get("round_intensities", False)),
    )


def _parse_resegment(raw: Mapping[str, Any]) -> ResegmentSettings:
    _check_keys(raw, _RESEGMENT_KEYS, "resegment")
    bounds = raw.get("range", [None, None])
    if not isinstance(bounds, list | tuple) or len(bounds) != 2:
        raise OptionError(f"resegment.range must be [lower, upper], got {bounds!r}.")
    return ResegmentSettings(
        range_min=_optional_float(bounds[0], "resegment.range"),
        range_max=_optional_float(bounds[1], "resegment.range"),
        outlier_sigma=_optional_float(raw.get("outlier_sigma"), "resegment.outlier_sigma"),
    )


def _parse_discretisation(raw: Mapping[str, Any], where: str) -> DiscretisationSettings:
    _check_keys(raw, _DISCRETISE_KEYS, where)
    method = parse_option(raw.get("method", ""), DiscretisationMethod, what=f"{where}.method")
    bins = raw.get("bins")
    if bins is not None and (isinstance(bins, bool) or not isinstance(bins, int)):
        raise OptionError(f"{where}.bins must be an integer, got {bins!r}.")
    return DiscretisationSettings(
        method=method,
        bin_size=_optional_float(raw.get("bin_size"), f"{where}.bin_size"),
        bins=bins,
        lower_bound=_optional_float(raw.get("lower_bound"), f"{where}.lower_bound"),
    )


def settings_from_mapping(raw: Mapping[str, Any], *, name: str = "custom") -> RadiomicsSettings:
    """Build :class:`RadiomicsSettings` from a parsed YAML mapping.

    Parameters
    ----------
    raw
        Mapping in the DESIGN.md vocabulary.
    name
        Name recorded when the mapping has no ``name`` key.

    Raises
    ------
    OptionError
        For an unknown key or value (the message names the closest valid one).

    Examples
    --------
    >>> s = settings_from_mapping({"approach": "3d", "discretise": {"method": "fixed-bin-number",
    ...                            "bins": 32}})
    >>> s.approach, s.discretise.bins
    (<Approach.D3: '3d'>, 32)
    """
    _check_keys(raw, _TOP_KEYS, "settings")
    return RadiomicsSettings(
        approach=parse_option(str(raw.get("approach", "3d")), Approach, what="approach"),
        resample=_parse_resample(raw["resample"]) if raw.get("resample") else None,
        resegment=_parse_resegment(raw["resegment"]) if raw.get("resegment") else None,
        discretise=(
            _parse_discretisation(raw["discretise"], "discretise")
            if raw.get("discretise")
            else None
        ),
        ivh=_parse_discretisation(raw["ivh"], "ivh") if raw.get("ivh") else None,
        filter=parse_filter(raw["filter"]) if raw.get("filter") is not None else None,
        name=str(raw.get("name", name)),
        description=str(raw.get("description", "")),
        unit=parse_option(str(raw["unit"]), Unit, what="unit") if raw.get("unit") else None,
    )


def list_presets() -> list[str]:
    """Names of the presets shipped with nenscope, sorted.

    Examples
    --------
    >>> "ibsi-a" in list_presets()
    True
    """
    folder = importlib.resources.files("nenscope.radiomics") / "presets"
    names = (p.name for p in folder.iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))


def load_settings(preset_or_path: str | Path) -> RadiomicsSettings:
    """Load a named preset or a YAML settings file.

    Parameters
    ----------
    preset_or_path
        A preset name (see :func:`list_presets`) or the path of a YAML file.

    Raises
    ------
    OptionError
        Unknown preset (with the closest name), unreadable file, or invalid content.

    Examples
    --------
    >>> load_settings("ibsi-c").discretise.bin_size
    25.0
    """
    # PyYAML (~10 ms to import) only when a YAML file is read, not for settings built in code.
    from nenscope.core.safe_yaml import parse_yaml, read_config_text

    text = str(preset_or_path)
    presets = list_presets()
    if text in presets:
        folder = importlib.resources.files("nenscope.radiomics") / "presets"
        content = (folder / f"{text}.yaml").read_text(encoding="utf-8")
        source = text
    else:
        path = Path(text)
        if not path.is_file():
            raise OptionError(
                f"Radiomics config '{text}' is neither a preset nor an existing YAML file. "
                f"{suggest(text, presets)}"
            )
        content = read_config_text(path, what="radiomics config", error=OptionError)
        source = path.stem
    raw = parse_yaml(content, source=f"Radiomics config '{text}'", error=OptionError)
    if not isinstance(raw, Mapping):
        raise OptionError(f"Radiomics config '{text}' must hold a YAML mapping, got {raw!r}.")
    try:
        return settings_from_mapping(raw, name=source)
    except OptionError as err:
        raise OptionError(f"Radiomics config {text}: {err}") from err
