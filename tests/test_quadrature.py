"""The piecewise Gauss-Legendre rule against closed forms."""

import numpy as np
from scipy import special

from pcheck.core.quadrature import piecewise_gauss_legendre


def test_gaussian_moments_over_twelve_sigma():
    # int_{-12}^{12} t^2 e^{-t^2/2} dt = sqrt(2 pi) (1 - erfc(12/sqrt 2)) - 24 e^{-72}: sqrt(2 pi) to 1e-31
    val = piecewise_gauss_legendre(lambda t: t**2 * np.exp(-t**2 / 2), -12.0, 12.0, [0.3])
    assert abs(val - np.sqrt(2 * np.pi)) <= 1e-14


def test_kinked_integrand_with_break():
    # int_{-1}^{2} |t - 0.5| e^{-t} dt with antiderivative -(t - a + 1) e^{-t} of (t - a) e^{-t}:
    # [(t + 0.5) e^{-t}]_{-1}^{0.5} + [-(t + 0.5) e^{-t}]_{0.5}^{2}
    exact = (np.exp(-0.5) + 0.5 * np.e) + (np.exp(-0.5) - 2.5 * np.exp(-2))
    val = piecewise_gauss_legendre(lambda t: np.abs(t - 0.5) * np.exp(-t), -1.0, 2.0, [0.5])
    assert abs(val - exact) <= 1e-14
    assert abs(piecewise_gauss_legendre(lambda t: np.abs(t - 0.5) * np.exp(-t), -1.0, 2.0) - exact) > 1e-8


def test_vector_valued_integrand():
    val = piecewise_gauss_legendre(lambda t: np.stack([np.exp(-t**2), np.ones_like(t)], axis=1), -6.0, 6.0)
    np.testing.assert_allclose(val, [np.sqrt(np.pi) * special.erf(6.0), 12.0], rtol=1e-14)
