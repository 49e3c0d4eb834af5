"""IBSI 2 filters: kernels and coefficient tables, invariants, contract (the response maps of
the IBSI 2 phantoms are in test_filters_ibsi2.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.core import GeometryError, NotComputableError, OptionError
from nenscope.radiomics.filters import (
    LAWS_KERNELS,
    BoundaryMode,
    Pooling,
    WaveletFamily,
    decomposition_filters,
    energy_map,
    gabor_filter,
    gabor_kernel,
    laws_filter,
    log_filter,
    mean_filter,
    riesz_transform,
    simoncelli_band,
    simoncelli_filter,
    wavelet_filter,
)
from nenscope.radiomics.filters._common import pool

RNG_SEED = 20261130
UNIT = (1.0, 1.0, 1.0)


def _noise(shape: tuple[int, int, int] = (6, 7, 8)) -> np.ndarray:
    return np.random.default_rng(RNG_SEED).normal(size=shape)


# PyWavelets 1.x ``Wavelet(name).dec_lo`` (Daubechies 1992, "Ten lectures on wavelets",
# table 6.1 and section 8.2); our tables come from the closed forms instead.
PYWAVELETS_DEC_LO = {
    WaveletFamily.DB2: [
        -0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416
    ],
    WaveletFamily.DB3: [
        0.03522629188570953, -0.08544127388202666, -0.13501102001025458,
        0.45987750211849154, 0.8068915093110925, 0.33267055295008263,
    ],
    WaveletFamily.COIF1: [
        -0.01565572813546454, -0.0727326195128539, 0.38486484686420286,
        0.8525720202122554, 0.3378976624578092, -0.0727326195128539,
    ],
}  # fmt: skip


@pytest.mark.parametrize("family", list(PYWAVELETS_DEC_LO))
def test_wavelet_coefficients_match_pywavelets(family: WaveletFamily) -> None:
    low, _ = decomposition_filters(family)
    # The published tables carry about 12 significant digits; ours are the exact closed forms.
    np.testing.assert_allclose(low, PYWAVELETS_DEC_LO[family], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("family", list(WaveletFamily))
def test_wavelet_filters_are_an_orthonormal_quadrature_mirror_pair(family: WaveletFamily) -> None:
    low, high = decomposition_filters(family)
    np.testing.assert_allclose(low.sum(), np.sqrt(2.0), rtol=1e-12)
    np.testing.assert_allclose(high.sum(), 0.0, atol=1e-12)
    for shift in range(0, low.size, 2):  # orthogonal to its even shifts, unit norm
        expected = 1.0 if shift == 0 else 0.0
        np.testing.assert_allclose(low[shift:] @ low[: low.size - shift], expected, atol=1e-12)
        np.testing.assert_allclose(low[shift:] @ high[: high.size - shift], 0.0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LAWS_KERNELS))
def test_laws_kernels_have_unit_norm_and_the_right_symmetry(name: str) -> None:
    kernel = LAWS_KERNELS[name]
    np.testing.assert_allclose(np.linalg.norm(kernel), 1.0, rtol=1e-12)
    # L and S and R are symmetric (even), E and W antisymmetric (odd).
    sign = -1.0 if name[0] in "EW" else 1.0
    np.testing.assert_allclose(kernel[::-1], sign * kernel, atol=1e-15)


@pytest.mark.parametrize(
    "mode", [BoundaryMode.NEAREST, BoundaryMode.PERIODIC, BoundaryMode.MIRROR]
)
def test_mean_of_a_constant_image_is_the_constant_away_from_zero_padding(
    mode: BoundaryMode,
) -> None:
    out = mean_filter(np.full((4, 5, 6), 7.0), support=5, boundary=mode)
    np.testing.assert_allclose(out, 7.0, rtol=1e-12)


def test_zero_padding_darkens_the_edges() -> None:
    out = mean_filter(np.ones((3, 3, 3)), support=3, boundary=BoundaryMode.ZERO)
    assert out[0, 0, 0] == pytest.approx(8 / 27, rel=1e-12)
    assert out[1, 1, 1] == pytest.approx(1.0, rel=1e-12)


def test_log_kernel_is_the_ibsi_formula() -> None:
    # Impulse response = kernel: -1/σ² (2πσ²)^{-3/2} (3 - r²/σ²) exp(-r²/2σ²), σ = 2 voxels.
    image = np.zeros((21, 21, 21))
    image[10, 10, 10] = 1.0
    out = log_filter(image, sigma_mm=3.0, spacing_mm=(1.5, 1.5, 1.5), boundary=BoundaryMode.ZERO)
    sigma = 2.0
    for offset in [(0, 0, 0), (0, 0, 3), (1, 2, 2), (4, 0, 5)]:
        r2 = float(np.sum(np.square(offset)))
        expected = (
            -1.0
            / sigma**2
            * (2 * np.pi * sigma**2) ** -1.5
            * (3 - r2 / sigma**2)
            * np.exp(-r2 / (2 * sigma**2))
        )
        assert out[10 + offset[0], 10 + offset[1], 10 + offset[2]] == pytest.approx(
            expected, rel=1e-12
        )
    # Radius ⌊4σ + 0.5⌋ = 8: nothing beyond it along an axis.
    assert out[10, 10, 19] == 0.0
    assert out[10, 10, 18] != 0.0


def test_laws_rotation_invariance_pools_over_right_angle_rotations() -> None:
    image = _noise()
    pooled = laws_filter(
        image, kernels="E5L5S5", boundary=BoundaryMode.MIRROR, rotation_invariant=True
    )
    single = laws_filter(image, kernels="E5L5S5", boundary=BoundaryMode.MIRROR)
    turned = laws_filter(image, kernels="L5E5S5", boundary=BoundaryMode.MIRROR)  # swap x, y
    assert np.all(pooled >= single - 1e-12)
    # A swap of x and y with y reversed is a right-angle rotation: E5 is odd, so reversing
    # it flips the sign; the pooled max therefore bounds |L5E5S5| response from above too.
    assert np.all(pooled >= -turned - 1e-12)
    mean = laws_filter(
        image,
        kernels="E5L5S5",
        boundary=BoundaryMode.MIRROR,
        rotation_invariant=True,
        pooling=Pooling.MEAN,
    )
    assert np.all(mean <= pooled + 1e-12)


def test_energy_map_is_the_mean_absolute_response() -> None:
    response = _noise()
    out = energy_map(response, distance=1, boundary=BoundaryMode.ZERO)
    window = np.abs(response[1:4, 2:5, 3:6])
    assert out[2, 3, 4] == pytest.approx(window.mean(), rel=1e-12)


def test_gabor_kernel_is_unnormalised_and_oriented() -> None:
    k = gabor_kernel(
        sigma=3.0, wavelength=6.0, aspect_ratio=0.5, orientation_rad=np.pi / 2, size=9
    )
    assert k[4, 4] == 1.0
    # θ = π/2: the carrier runs along rows (+y); γ < 1 widens the envelope across it (x).
    assert abs(k[4 + 3, 4]) < abs(k[4, 4 + 3])
    np.testing.assert_allclose(abs(k[4, 4 + 3]), np.exp(-(0.25 * 9) / 18), rtol=1e-12)
    np.testing.assert_allclose(k[4 + 3, 4], np.exp(-9 / 18) * np.exp(1j * np.pi), rtol=1e-12)


def test_gabor_orientations_are_averaged() -> None:
    image = _noise((3, 9, 9))
    kwargs = {
        "sigma_mm": 2.0,
        "wavelength_mm": 4.0,
        "aspect_ratio": 1.0,
        "spacing_mm": UNIT,
        "boundary": BoundaryMode.MIRROR,
    }
    both = gabor_filter(image, orientations_rad=[0.0, np.pi / 2], **kwargs)  # type: ignore[arg-type]
    first = gabor_filter(image, orientations_rad=[0.0], **kwargs)  # type: ignore[arg-type]
    second = gabor_filter(image, orientations_rad=[np.pi / 2], **kwargs)  # type: ignore[arg-type]
    np.testing.assert_allclose(both, (first + second) / 2, rtol=1e-10)


def test_wavelet_low_pass_keeps_a_constant_and_high_pass_removes_it() -> None:
    image = np.full((5, 6, 7), 3.0)
    low = wavelet_filter(
        image, family=WaveletFamily.DB3, response="LLL", boundary=BoundaryMode.PERIODIC, level=2
    )
    high = wavelet_filter(
        image, family=WaveletFamily.DB3, response="LLH", boundary=BoundaryMode.PERIODIC
    )
    np.testing.assert_allclose(low, 3.0 * 2.0**3, rtol=1e-12)  # (√2)^3 per level, two levels
    np.testing.assert_allclose(high, 0.0, atol=1e-12)


def test_simoncelli_bands_of_consecutive_levels_tile_the_spectrum() -> None:
    # cos(π/2 log2(2ν/f)) of level j and of level j+1 are a partition of unity in energy.
    shape = (65,)
    total = np.sum([simoncelli_band(shape, level=j) ** 2 for j in (1, 2, 3)], axis=0)
    radius = np.abs(np.linspace(-1.0, 1.0, 65))
    inside = (radius >= 0.125) & (radius <= 0.5)
    np.testing.assert_allclose(total[inside], 1.0, rtol=1e-12)


def test_simoncelli_removes_the_mean_of_an_odd_sized_image() -> None:
    image = _noise((5, 7, 9)) + 100.0
    out = simoncelli_filter(image, level=1)
    assert abs(out.mean()) < 1e-9


@pytest.mark.parametrize(
    "call",
    [
        lambda img: mean_filter(img, support=3, boundary=BoundaryMode.MIRROR),
        lambda img: log_filter(img, sigma_mm=1.0, spacing_mm=UNIT, boundary=BoundaryMode.MIRROR),
        lambda img: laws_filter(img, kernels="L3E3S3", boundary=BoundaryMode.NEAREST),
        lambda img: wavelet_filter(
            img, family=WaveletFamily.HAAR, response="HLH", boundary=BoundaryMode.ZERO
        ),
        lambda img: simoncelli_filter(img, level=2),
        lambda img: gabor_filter(
            img,
            sigma_mm=2.0,
            wavelength_mm=3.0,
            aspect_ratio=1.0,
            orientations_rad=[0.3],
            spacing_mm=UNIT,
            boundary=BoundaryMode.PERIODIC,
        ),
    ],
    ids=["mean", "log", "laws", "wavelet", "simoncelli", "gabor"],
)
def test_contract_float64_same_shape_input_unchanged(call) -> None:  # type: ignore[no-untyped-def]
    image = np.arange(4 * 5 * 6, dtype=np.int32).reshape(4, 5, 6)
    before = image.copy()
    out = call(image)
    assert out.dtype == np.float64
    assert out.shape == image.shape
    np.testing.assert_array_equal(image, before)


def test_filters_do_not_mix_slices_when_filtering_by_slice() -> None:
    image = np.zeros((3, 5, 5))
    image[1, 2, 2] = 1.0
    for out in (
        mean_filter(image, support=3, boundary=BoundaryMode.ZERO, by_slice=True),
        log_filter(
            image,
            sigma_mm=1.0,
            spacing_mm=(9.0, 1.0, 1.0),
            boundary=BoundaryMode.ZERO,
            by_slice=True,
        ),
        laws_filter(image, kernels="L3L3", boundary=BoundaryMode.ZERO, by_slice=True),
        simoncelli_filter(image, level=1, by_slice=True),
    ):
        assert np.all(out[[0, 2]] == 0.0)


def test_invalid_inputs_are_refused() -> None:
    image = np.zeros((3, 3, 3))
    with pytest.raises(OptionError, match="mirror"):
        mean_filter(image, support=3, boundary="mirorr")  # type: ignore[arg-type]
    with pytest.raises(NotComputableError, match="odd"):
        mean_filter(image, support=4, boundary=BoundaryMode.ZERO)
    with pytest.raises(GeometryError, match="isotropic"):
        log_filter(image, sigma_mm=1.0, spacing_mm=(3.0, 1.0, 1.0), boundary=BoundaryMode.ZERO)
    with pytest.raises(NotComputableError, match="E5L5S5"):
        laws_filter(image, kernels="E5L5", boundary=BoundaryMode.ZERO)
    with pytest.raises(NotComputableError, match="L or H"):
        wavelet_filter(
            image,
            family=WaveletFamily.HAAR,
            response="LX",
            boundary=BoundaryMode.ZERO,
            by_slice=True,
        )
    with pytest.raises(OptionError, match="db2"):
        wavelet_filter(
            image,
            family="db4",  # type: ignore[arg-type]  # a user string on purpose
            response="LLL",
            boundary=BoundaryMode.ZERO,
        )
    with pytest.raises(GeometryError, match="3-D"):
        simoncelli_filter(np.zeros((3, 3)), level=1)
    with pytest.raises(GeometryError, match="finite"):
        mean_filter(np.full((2, 2, 2), np.nan), support=1, boundary=BoundaryMode.ZERO)


def test_invalid_scales_are_refused() -> None:
    image = np.zeros((3, 3, 3))
    with pytest.raises(NotComputableError, match="sigma_mm > 0"):
        log_filter(image, sigma_mm=0.0, spacing_mm=UNIT, boundary=BoundaryMode.ZERO)
    with pytest.raises(NotComputableError, match="orientation"):
        gabor_filter(
            image,
            sigma_mm=1.0,
            wavelength_mm=2.0,
            aspect_ratio=1.0,
            orientations_rad=[],
            spacing_mm=UNIT,
            boundary=BoundaryMode.ZERO,
        )
    with pytest.raises(NotComputableError, match=">= 0"):
        energy_map(image, distance=-1, boundary=BoundaryMode.ZERO)
    with pytest.raises(NotComputableError, match="level"):
        simoncelli_filter(image, level=0)
    with pytest.raises(NotComputableError, match="level"):
        wavelet_filter(
            image, family=WaveletFamily.HAAR, response="LLL", boundary=BoundaryMode.ZERO, level=0
        )
    with pytest.raises(GeometryError, match="3 positive"):
        log_filter(image, sigma_mm=1.0, spacing_mm=(1.0, 1.0), boundary=BoundaryMode.ZERO)


def test_pooling_needs_a_response() -> None:
    with pytest.raises(ValueError, match="Nothing to pool"):
        pool(iter([]), Pooling.MEAN)


def test_second_order_riesz_transforms_sum_to_minus_the_image() -> None:
    # Σ_i (-j ω_i)² / ‖ω‖² = -1: the three pure second orders add up to -identity (mean 0).
    image = _noise((6, 8, 10))
    image -= image.mean()
    total = sum(
        (riesz_transform(image, order_xyz=o) for o in [(2, 0, 0), (0, 2, 0), (0, 0, 2)]),
        start=np.zeros_like(image),
    )
    np.testing.assert_allclose(total, -image, atol=1e-12)


def test_first_order_riesz_is_antisymmetric_and_energy_preserving() -> None:
    image = _noise((1, 15, 17))  # odd sizes: no unpaired Nyquist frequency
    image -= image.mean()
    rx = riesz_transform(image, order_xyz=(1, 0), by_slice=True)
    ry = riesz_transform(image, order_xyz=(0, 1), by_slice=True)
    # Energy of the gradient-direction pair equals that of the image (all-pass), and the
    # transform of the mirrored image is the mirrored, negated transform.
    np.testing.assert_allclose(np.sum(rx**2 + ry**2), np.sum(image**2), rtol=1e-10)
    mirrored = riesz_transform(image[:, :, ::-1], order_xyz=(1, 0), by_slice=True)
    np.testing.assert_allclose(mirrored[:, :, ::-1], -rx, atol=1e-12)
    with pytest.raises(NotComputableError, match="non-negative"):
        riesz_transform(image, order_xyz=(1, 0, 0), by_slice=True)
