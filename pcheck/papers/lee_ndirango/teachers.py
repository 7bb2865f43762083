"""Teachers and label noise of Lee & Ndirango (NeurIPS 2019), their sections 2.1 and 4.1.

Conventions: inputs are rows, ``X`` is ``(N_data, N1)`` (the paper's ``X`` is its transpose);
a composite weight ``W`` is ``(N3, N1)`` and labels ``x`` by ``argmax_c (W x)_c``.

Teacher (section 2.1; the authors' ``multitask/data.py``, ``LinearTeacher``): a rank-``N2``
linear map with all singular values equal (section 4.5, "We kept all singular values for a
given teacher network the same"),

.. math::  W = s\\, U V^\\top, \\quad U \\in \\mathbb R^{N_3\\times N_2},\\ V \\in \\mathbb R^{N_1\\times N_2}
           \\text{ orthonormal columns.}

Relatedness (their eq. 4 and section 4.5): ``V_B = r V_A + sqrt(1 - r^2) V_perp`` with
``V_perp`` orthonormal and orthogonal to ``V_A``, so ``V_B^T V_A = r I``; ``U_B`` independent
of ``U_A`` (the authors draw each teacher's second layer orthogonal and independent).

Label noise, the choice the paper's text and the authors' code make differently:

* ``"fixed"`` (section 2.1 read literally): a noise matrix ``xi`` with i.i.d. ``N(0, sigma^2/N1)``
  entries drawn once per teacher, ``Sigma_hat = W + xi``, training labels
  ``argmax Sigma_hat x``: a deterministic (hence learnable) rule.
* ``"per-sample"`` (the authors' code, ``LinearTeacher.forward`` in training mode): fresh
  ``z ~ N(0, sigma^2 I_{N3})`` added to the logits of every sample, labels ``argmax (W x + z)``.

Both have the same noise per logit: for ``x ~ N(0, I)``, ``xi x`` has variance
``sigma^2 |x|^2 / N1 ~ sigma^2`` per class. The authors use ``sigma = N1^{-1/2}``
(``sig_z=(1 / n_features)**.5``). Test labels are noise free, ``argmax W x`` (section 2.1,
"the student is tested against noise-free labels"; the code's ``--clean_validation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.validate import as_array, as_count, as_scalar

#: The two label-noise models (see the module docstring).
NOISE_MODELS = ("fixed", "per-sample")


def orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``n x k`` matrix with orthonormal columns, Haar-distributed (QR with sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def torch_orthogonal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A Haar-random ``rows x cols`` matrix with orthonormal rows (``rows <= cols``) or columns,
    the distribution of ``torch.nn.init.orthogonal_`` with gain 1 (the authors' init)."""
    return orthonormal(rng, cols, rows).T if rows < cols else orthonormal(rng, rows, cols)


def related_directions(rng: np.random.Generator, V_A, r: float) -> np.ndarray:
    """``V_B = r V_A + sqrt(1 - r^2) V_perp`` with ``V_perp`` orthonormal and orthogonal to
    ``V_A``: orthonormal columns with ``V_B^T V_A = r I`` (their eq. 4, section 4.5)."""
    V_A = as_array(V_A, "V_A", ndim=2)
    r = as_scalar(r, "r", minimum=0.0)
    n, k = V_A.shape
    if r > 1:
        raise ValueError(f"r must be in [0, 1], got {r}")
    if n < 2 * k:
        raise ValueError(f"V_A must have at least twice as many rows as columns, got shape {V_A.shape}")
    Q = orthonormal(rng, n, 2 * k)
    basis = np.linalg.qr(np.hstack([V_A, Q]))[0][:, k:2 * k]  # orthonormal, orthogonal to V_A
    return r * V_A + np.sqrt(1.0 - r * r) * basis


@dataclass(frozen=True)
class Teacher:
    """Noise-free composite ``W (N3, N1)``, noise matrix ``xi (N3, N1)`` (used by the "fixed"
    model) and the logit noise level ``sigma`` (used by the "per-sample" model)."""

    W: np.ndarray
    xi: np.ndarray
    sigma: float

    @property
    def noisy(self) -> np.ndarray:
        """``Sigma_hat = W + xi`` (section 2.1)."""
        return self.W + self.xi

    def clean_labels(self, X) -> np.ndarray:
        """Test labels ``argmax_c (W x)_c`` per row of ``X``."""
        X = as_array(X, "X", ndim=2, shape=(None, self.W.shape[1]))
        return np.argmax(X @ self.W.T, axis=1)

    def noisy_labels(self, X, noise: str, z=None) -> np.ndarray:
        """Training labels under ``noise``: ``argmax Sigma_hat x`` ("fixed") or
        ``argmax (W x + sigma z)`` ("per-sample"), ``z (N, N3)`` standard normal, one row per
        sample (pass the same ``z`` to teachers that must share their noise draws)."""
        X = as_array(X, "X", ndim=2, shape=(None, self.W.shape[1]))
        if noise == "fixed":
            return np.argmax(X @ self.noisy.T, axis=1)
        if noise != "per-sample":
            raise ValueError(f"noise must be one of {NOISE_MODELS}, got {noise!r}")
        z = as_array(z, "z", ndim=2, shape=(X.shape[0], self.W.shape[0]))
        return np.argmax(X @ self.W.T + self.sigma * z, axis=1)


def make_teacher(rng: np.random.Generator, *, s: float, U, V, sigma: float) -> Teacher:
    """``W = s U V^T`` (all singular values ``s``) with ``xi_ij ~ N(0, sigma^2 / N1)``."""
    s = as_scalar(s, "s", minimum=0.0)
    sigma = as_scalar(sigma, "sigma", minimum=0.0)
    U = as_array(U, "U", ndim=2)
    V = as_array(V, "V", ndim=2, shape=(None, U.shape[1]))
    W = s * U @ V.T
    return Teacher(W, rng.standard_normal(W.shape) * (sigma / np.sqrt(V.shape[0])), sigma)


def authors_sigma(n_in: int) -> float:
    """The authors' logit noise level ``sigma = N1^{-1/2}`` (``sig_z=(1 / n_features)**.5``)."""
    return float(as_count(n_in, "n_in")) ** -0.5
