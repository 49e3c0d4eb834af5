"""Report figures: a coronal MIP with numbered lesions and an axial fused PET/CT per lesion.

The figures are rendered with matplotlib (Agg, no pyplot state) to PNG bytes.

Display conventions: the coronal MIP is seen from the front with the patient's right on the
viewer's left and the head at the top (radiological convention); axial views are seen from the
feet, again with the patient's right on the viewer's left and anterior at the top.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from matplotlib import colormaps
from matplotlib.figure import Figure
from scipy import ndimage

from nenscope.core.errors import GeometryError
from nenscope.core.geometry import ImageVolume
from nenscope.reporting.extent import ct_z_range_mm

__all__ = [
    "CT_MIN_COVERED_FRACTION",
    "CT_WINDOW_HU",
    "FIGURE_DPI",
    "LesionMarker",
    "coronal_mip",
    "ct_z_range_mm",
    "lesion_figure",
    "mip_figure",
    "place_labels",
    "render_lesion_png",
    "render_mip_png",
    "sample_axial_plane",
]

FIGURE_DPI = 110
"""Resolution of the PNG figures in dots per inch (sharp on screen, small in the HTML)."""

CT_WINDOW_HU = (-160.0, 240.0)
"""CT display window (soft tissue: level 40 HU, width 400 HU)."""

_MIP_PERCENTILE = 99.5
"""Upper display limit of the MIP: this percentile of the positive projected SUVs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionMarker:
    """A lesion to mark on a figure: its number and centre ``(x, y, z)`` in LPS mm."""

    id: int
    centroid_mm: tuple[float, float, float]


def _axis_along(volume: ImageVolume, lps_axis: int) -> int:
    """Array axis (0 = z, 1 = y, 2 = x) whose direction is closest to LPS axis ``lps_axis``."""
    return int(np.argmax(np.abs(volume.direction[lps_axis, :])))


def coronal_mip(
    volume: ImageVolume,
) -> tuple[npt.NDArray[np.float64], tuple[float, float, float, float]]:
    """Maximum-intensity projection along the anterior–posterior axis.

    Parameters
    ----------
    volume
        Image with axes aligned to the patient axes (axial, coronal or sagittal stacks).

    Returns
    -------
    mip
        2-D float64 image, rows from inferior to superior, columns from patient right to left.
    extent_mm
        ``(left, right, bottom, top)`` in mm for ``imshow(..., origin="lower")``: patient x
        (LPS, increasing to the patient's left) and z (increasing to superior).

    Raises
    ------
    GeometryError
        If the axes are oblique, so that no array axis points anterior–posterior.

    Examples
    --------
    >>> from nenscope.core.geometry import affine_from_spacing
    >>> from nenscope.core.units import Unit
    >>> arr = np.zeros((2, 3, 4)); arr[1, 2, 3] = 5.0
    >>> mip, ext = coronal_mip(ImageVolume(array=arr, affine=affine_from_spacing((2, 1, 1)),
    ...                                     unit=Unit.SUV_BW))
    >>> mip.shape, float(mip[1, 3]), ext
    ((2, 4), 5.0, (-0.5, 3.5, -1.0, 3.0))
    """
    ap_axis = _axis_along(volume, 1)
    lr_axis = _axis_along(volume, 0)
    si_axis = _axis_along(volume, 2)
    if len({ap_axis, lr_axis, si_axis}) != 3 or np.max(np.abs(volume.direction[1, :])) < 0.99:
        raise GeometryError(
            "Cannot draw a coronal MIP of an oblique volume: no array axis lies along the "
            f"patient axes (direction {volume.direction.round(3).tolist()})."
        )
    data = np.asarray(volume.array, dtype=np.float64).max(axis=ap_axis)
    # After removing ap_axis the remaining two axes keep their order.
    remaining = [a for a in range(3) if a != ap_axis]
    if remaining.index(si_axis) == 1:
        data = data.T  # rows must be the superior-inferior axis
    mip = np.asarray(data, dtype=np.float64)
    sp = volume.spacing_mm
    if volume.direction[2, si_axis] < 0:
        mip = mip[::-1, :]
    if volume.direction[0, lr_axis] < 0:
        mip = mip[:, ::-1]
    origin = np.asarray(volume.origin_mm)
    n_si, n_lr = volume.shape[si_axis], volume.shape[lr_axis]
    x_first, x_last = sorted(
        (origin[0], origin[0] + volume.direction[0, lr_axis] * sp[lr_axis] * (n_lr - 1))
    )
    z_first, z_last = sorted(
        (origin[2], origin[2] + volume.direction[2, si_axis] * sp[si_axis] * (n_si - 1))
    )
    extent = (
        float(x_first - sp[lr_axis] / 2),
        float(x_last + sp[lr_axis] / 2),
        float(z_first - sp[si_axis] / 2),
        float(z_last + sp[si_axis] / 2),
    )
    return mip, extent


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # zlib level 3 instead of 6: a third less encoding time for a file of about the same size.
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()


def render_mip_png(
    suv: ImageVolume,
    lesions: Sequence[LesionMarker],
    *,
    others: Sequence[LesionMarker] = (),
    title: str = "Coronal MIP",
    vmax: float | None = None,
) -> bytes:
    """PNG of :func:`mip_figure` (same parameters)."""
    return _png(mip_figure(suv, lesions, others=others, title=title, vmax=vmax))


def mip_figure(
    suv: ImageVolume,
    lesions: Sequence[LesionMarker],
    *,
    others: Sequence[LesionMarker] = (),
    title: str = "Coronal MIP",
    vmax: float | None = None,
) -> Figure:
    """Coronal MIP of ``suv`` (inverted grey): numbered target lesions, marks for the others.

    Parameters
    ----------
    suv
        SUV image (g/mL).
    lesions
        Lesions to number (the target lesions: few, so that every number stays readable).
    others
        Further lesions, drawn as small open circles without a number.
    title
        Figure title.
    vmax
        Upper end of the grey scale in SUV; default: the 99.5th percentile of the positive
        projected values (so that a few very hot voxels do not wash out the image).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (no pyplot state); its axes hold one annotation per numbered lesion.
    """
    mip, extent = coronal_mip(suv)
    positive = mip[mip > 0]
    if vmax is None:
        vmax = float(np.percentile(positive, _MIP_PERCENTILE)) if positive.size else 1.0
    vmax = max(vmax, 1e-6)
    width_mm, height_mm = extent[1] - extent[0], extent[3] - extent[2]
    fig_h = 8.0
    # The image's own width at the plot height (0.88 of the figure), plus 0.9 in on the left
    # for the z labels and 1.6 in on the right for the colour bar and its labels.
    image_w = float(np.clip(0.88 * fig_h * width_mm / max(height_mm, 1.0), 2.5, 8.0))
    fig_w = image_w + 2.5
    fig = Figure(figsize=(fig_w, fig_h))
    ax = fig.add_subplot()
    image = ax.imshow(
        mip,
        cmap="gray_r",
        vmin=0.0,
        vmax=vmax,
        origin="lower",
        extent=extent,
        interpolation="bilinear",
    )
    if others:
        ax.scatter(
            [m.centroid_mm[0] for m in others],
            [m.centroid_mm[2] for m in others],
            s=36,
            facecolors="none",
            edgecolors="#1f5fbf",
            linewidths=1.2,
            label="other lesions",
        )
    anchors = [(float(m.centroid_mm[0]), float(m.centroid_mm[2])) for m in lesions]
    texts = [str(m.id) for m in lesions]
    spots = place_labels(anchors, texts, extent=extent)
    for text, (x, z), spot in zip(texts, anchors, spots, strict=True):
        ax.annotate(
            text,
            xy=(x, z),
            xytext=spot,
            color="red",
            fontsize=12,
            fontweight="bold",
            arrowprops={"arrowstyle": "-", "color": "red", "lw": 1.0},
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "red", "alpha": 0.9},
        )
    # Marks and labels of lesions outside the image must not widen the axes.
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_title(title)
    ax.set_xlabel("x (mm, patient right ← → left)")
    ax.set_ylabel("z (mm, inferior → superior)")
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, shrink=0.7, label="SUV (g/mL)")
    # Fixed margins: tight_layout would draw the whole figure once more just to measure it.
    fig.subplots_adjust(left=0.9 / fig_w, right=1.0 - 0.9 / fig_w, bottom=0.07, top=0.95)
    return fig


def place_labels(
    anchors: Sequence[tuple[float, float]],
    texts: Sequence[str],
    *,
    extent: tuple[float, float, float, float],
) -> list[tuple[float, float]]:
    """Greedy non-overlapping label positions (data units) for points on a 2-D plot.

    Each label is an estimated box (about 4.5 % of the plot height tall, 3.5 % of its width
    per character wide). Labels are placed in the given order; each takes the first candidate
    position, on rings of growing radius around its point (right-up first), whose box stays in
    the plot and overlaps neither a label already placed nor a marked point. A leader line
    drawn from the point to the label keeps the pairing readable. When every candidate
    collides (very crowded plots), the least-overlapping one is used.

    Parameters
    ----------
    anchors
        ``(x, y)`` points in data units.
    texts
        Label text of each point.
    extent
        ``(left, right, bottom, top)`` of the plot in data units.

    Returns
    -------
    list of tuple of float
        Lower-left ``(x, y)`` of each label, in the order given.

    Examples
    --------
    >>> spots = place_labels([(0.0, 0.0), (0.0, 0.0)], ["1", "2"], extent=(-100, 100, -100, 100))
    >>> spots[0] != spots[1]
    True
    """
    left, right, bottom, top = extent
    width, height = right - left, top - bottom
    box_h = 0.045 * height
    radii = (0.06, 0.11, 0.16, 0.22, 0.30)
    angles = np.deg2rad([20, -20, 60, -60, 160, 200, 120, -120, 90, -90, 0, 180])
    placed: list[tuple[float, float, float, float]] = []
    spots: list[tuple[float, float]] = []
    for (px, py), text in zip(anchors, texts, strict=True):
        box_w = (0.035 * len(text) + 0.03) * width
        best = (px, py)
        best_cost = np.inf
        for radius in radii:
            for angle in angles:
                # Centre the box on the ring point, so the leader line reaches its middle.
                cx = px + radius * width * np.cos(angle)
                cy = py + radius * height * np.sin(angle) * 0.5
                box = (cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2)
                cost = sum(_overlap(box, other) for other in placed)
                cost += sum(
                    box_w * box_h
                    for ax_, ay_ in anchors
                    if box[0] <= ax_ <= box[2] and box[1] <= ay_ <= box[3]
                )
                inside = box[0] >= left and box[2] <= right and box[1] >= bottom
                cost += 0.0 if inside and box[3] <= top else 10.0 * box_w * box_h
                if cost < best_cost:
                    best, best_cost = (box[0], box[1]), cost
                if cost == 0.0:
                    break
            if best_cost == 0.0:
                break
        placed.append((best[0], best[1], best[0] + box_w, best[1] + box_h))
        spots.append(best)
    return spots


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    dx = min(a[2], b[2]) - max(a[0], b[0])
    dy = min(a[3], b[3]) - max(a[1], b[1])
    return float(dx * dy) if dx > 0 and dy > 0 else 0.0


def sample_axial_plane(
    volume: ImageVolume,
    centre_mm: Sequence[float],
    *,
    fov_mm: float,
    pixel_mm: float,
    order: Literal[0, 1] = 1,
    fill: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Resample ``volume`` on an axial plane through ``centre_mm``.

    Parameters
    ----------
    volume
        Any 3-D image (any orientation).
    centre_mm
        ``(x, y, z)`` LPS centre of the plane in mm.
    fov_mm
        Side of the square field of view in mm.
    pixel_mm
        Sampling step in mm.
    order
        Interpolation order (0 nearest, 1 linear).
    fill
        Value outside the volume.

    Returns
    -------
    numpy.ndarray
        float64 ``(rows, columns)``: rows from anterior to posterior (increasing LPS y),
        columns from patient right to left (increasing LPS x).

    Examples
    --------
    >>> from nenscope.core.geometry import affine_from_spacing
    >>> from nenscope.core.units import Unit
    >>> vol = ImageVolume(array=np.arange(27.0).reshape(3, 3, 3),
    ...                   affine=affine_from_spacing((1, 1, 1)), unit=Unit.HU)
    >>> sample_axial_plane(vol, (1.0, 1.0, 2.0), fov_mm=2.0, pixel_mm=1.0)[1].tolist()
    [21.0, 22.0, 23.0]
    """
    half = fov_mm / 2.0
    steps = np.arange(-half, half + 1e-9, pixel_mm)
    cx, cy, cz = (float(v) for v in centre_mm)
    yy, xx = np.meshgrid(cy + steps, cx + steps, indexing="ij")
    points = np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, cz)], axis=1)
    idx = volume.lps_to_index(points)
    shape = np.asarray(volume.shape)
    lo = np.clip(np.floor(idx.min(axis=0)).astype(int) - 1, 0, shape - 1)
    hi = np.clip(np.ceil(idx.max(axis=0)).astype(int) + 2, 1, shape)
    if np.any(hi <= lo):
        return np.full(xx.shape, fill, dtype=np.float64)
    crop = np.asarray(volume.array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], dtype=np.float64)
    values = ndimage.map_coordinates(
        crop, (idx - lo).T, order=order, mode="constant", cval=fill, prefilter=False
    )
    return np.asarray(values.reshape(xx.shape), dtype=np.float64)


FUSION_MAX_ALPHA = 0.75
"""Opacity of the PET colour overlay at and above :data:`FUSION_RAMP` × the display maximum."""

FUSION_RAMP = 0.3
"""The overlay fades in linearly from 0 to this fraction of the display maximum, so that low
background uptake leaves the CT visible without a hard (noisy) threshold edge."""


def _fusion_rgba(pet: npt.NDArray[np.float64], vmax: float) -> npt.NDArray[np.float64]:
    """RGBA overlay of a PET plane: 'hot' colours, opacity rising with uptake."""
    scaled = np.clip(pet / vmax, 0.0, 1.0)
    rgba = np.asarray(colormaps["hot"](scaled), dtype=np.float64)
    rgba[..., 3] = FUSION_MAX_ALPHA * np.clip(scaled / FUSION_RAMP, 0.0, 1.0)
    return rgba


CT_MIN_COVERED_FRACTION = 0.5
"""A lesion view shows the CT when at least this fraction of its plane lies inside the CT."""


def _ct_plane(
    ct: ImageVolume | None, centre_mm: Sequence[float], *, fov_mm: float, pixel_mm: float
) -> tuple[npt.NDArray[np.float64] | None, str]:
    """Sample the CT plane of a lesion view, or give ``None`` and the note shown instead."""
    if ct is None:
        return None, "No CT in this study:\nPET only"
    plane = sample_axial_plane(ct, centre_mm, fov_mm=fov_mm, pixel_mm=pixel_mm, fill=np.nan)
    inside = np.isfinite(plane)
    if inside.mean() < CT_MIN_COVERED_FRACTION:
        low, high = ct_z_range_mm(ct)
        return None, (
            f"No CT at this level\n(z = {centre_mm[2]:.0f} mm;\nthe CT covers\n"
            f"z = {low:.0f} to {high:.0f} mm)"
        )
    return np.where(inside, plane, -1000.0), ""


def render_lesion_png(
    suv: ImageVolume,
    ct: ImageVolume | None,
    lesion: LesionMarker,
    *,
    mask: ImageVolume | None = None,
    mask_value: float = 1.0,
    caption: str = "",
    fov_mm: float = 120.0,
    suv_max_display: float | None = None,
) -> bytes:
    """PNG of :func:`lesion_figure` (same parameters)."""
    return _png(
        lesion_figure(
            suv,
            ct,
            lesion,
            mask=mask,
            mask_value=mask_value,
            caption=caption,
            fov_mm=fov_mm,
            suv_max_display=suv_max_display,
        )
    )


def lesion_figure(
    suv: ImageVolume,
    ct: ImageVolume | None,
    lesion: LesionMarker,
    *,
    mask: ImageVolume | None = None,
    mask_value: float = 1.0,
    caption: str = "",
    fov_mm: float = 120.0,
    suv_max_display: float | None = None,
) -> Figure:
    """Axial CT, PET and fused PET/CT through a lesion's centre, with its outline.

    Where there is no CT (PET-only study, or a CT that does not reach the lesion's level) the
    CT panel says so, and the third panel shows the PET in inverted grey instead of a fusion.

    Parameters
    ----------
    suv
        SUV image (g/mL).
    ct
        CT in HU in the same frame of reference, or ``None`` (the PET alone is shown).
    lesion
        The lesion (number and centre).
    mask
        Lesion mask or label map on any grid in the same frame of reference; the outline of
        the voxels equal to ``mask_value`` is drawn.
    mask_value
        Value of the lesion's voxels in ``mask`` (its label in a label map).
    caption
        Text under the number in the title (e.g. SUVmax and volume).
    fov_mm
        Side of the field of view in mm.
    suv_max_display
        Upper end of the PET colour scale; default the maximum SUV in the view.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (no pyplot state).
    """
    pixel_mm = 1.0 if ct is None else max(0.7, min(ct.spacing_mm[1], ct.spacing_mm[2]))
    pet = sample_axial_plane(suv, lesion.centroid_mm, fov_mm=fov_mm, pixel_mm=pixel_mm)
    vmax = suv_max_display or max(float(pet.max()), 1e-6)
    half = fov_mm / 2.0
    cx, cy, cz = lesion.centroid_mm
    # Rows run anterior→posterior (y increasing), so 'upper' origin puts anterior at the top.
    extent = (cx - half, cx + half, cy + half, cy - half)
    ct_plane, ct_note = _ct_plane(ct, lesion.centroid_mm, fov_mm=fov_mm, pixel_mm=pixel_mm)
    fig = Figure(figsize=(3.3 * 3, 3.6))
    axes = fig.subplots(1, 3)
    outline = None
    if mask is not None:
        labels = sample_axial_plane(
            mask, lesion.centroid_mm, fov_mm=fov_mm, pixel_mm=pixel_mm, order=0
        )
        outline = (labels == mask_value).astype(np.float64)
    if ct_plane is not None:
        for ax in (axes[0], axes[2]):
            ax.imshow(
                ct_plane, cmap="gray", vmin=CT_WINDOW_HU[0], vmax=CT_WINDOW_HU[1], extent=extent
            )
        axes[0].set_title("CT")
        axes[2].imshow(_fusion_rgba(pet, vmax), extent=extent)
        axes[2].set_title("PET/CT fused")
    else:
        # A note instead of a black panel: say why there is no CT here.
        axes[0].set_facecolor("#eeeeee")
        axes[0].text(
            0.5,
            0.5,
            ct_note,
            ha="center",
            va="center",
            fontsize=9,
            wrap=True,
            transform=axes[0].transAxes,
        )
        axes[0].set_title("CT")
        axes[2].imshow(pet, cmap="gray_r", vmin=0.0, vmax=vmax, extent=extent)
        axes[2].set_title("PET (inverted grey)")
    image = axes[1].imshow(pet, cmap="hot", vmin=0.0, vmax=vmax, extent=extent)
    axes[1].set_title("PET (SUV)")
    fig.colorbar(image, ax=axes[1], fraction=0.046, pad=0.02)
    for k, ax in enumerate(axes):
        if k == 0 and ct_plane is None:
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        if outline is not None and outline.max() > 0:
            ax.contour(
                outline, levels=[0.5], colors="cyan", linewidths=0.9, extent=extent, origin="upper"
            )
        ax.plot([cx], [cy], marker="+", color="lime", markersize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Lesion {lesion.id}: z = {cz:.1f} mm  {caption}", fontsize=10)
    # Fixed margins: tight_layout would draw the whole figure once more just to measure it.
    fig.subplots_adjust(left=0.01, right=0.97, bottom=0.02, top=0.84, wspace=0.06)
    return fig
