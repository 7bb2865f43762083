"""The function-space problem (HTW eq. 5) in one input dimension, solved exactly with a
certificate.

**Atoms.** A neuron is ``w relu(v x + b)``; write ``(v, b) = tau (cos phi, sin phi)`` and
``mu = tau w``, so the neuron is ``mu relu(cos(phi) x + sin(phi))``. For ``cos phi != 0`` this is
a kink at ``p = -tan phi`` with direction ``s = sign(cos phi)`` and mass ``m = |cos phi| mu``;
``phi = pi/2`` is the constant neuron (``v = 0``), the limit of kinks sent to infinity.

**The exact link to eq. (4).** Minimizing ``||theta||^2`` over the rescalings of each neuron
(HTW section 2: ReLU is positively homogeneous, and by AM-GM
``min_alpha ||alpha (v, b)||^2 + ||w / alpha||^2 = 2 ||w|| ||(v, b)||``) gives

.. math:: \\min_{\\theta \\text{ of any width}} L(\\theta) + \\lambda\\|\\theta\\|^2
          = \\min_{\\phi, \\mu, c} L + \\lambda\\Big(2\\sum_k \\kappa(\\phi_k)\\|\\mu_k\\| + \\|c\\|^2\\Big)

with ``kappa = 1`` (:func:`pcheck.core.costs.angle_atom_cost`) for variant "7" (biases regularized: ``2 ||w|| ||(v, b)||``; in kink terms
``2 ||m|| sqrt(1 + p^2) = 2 ||m|| / g(p)``, twice the atom part of HTW eq. 7: the factor 2 of proofs_notes/htw-penalty-factor2.md)
and ``kappa = |cos phi|`` with ``c`` free for variant "8" (eq. 8: ``2 ||w|| |v| = 2 ||m||``).
Constants: in "7" a constant output is paid either as ``||c||^2`` or by the ``v = 0`` neuron at
``2 ||mu||`` (the cheaper for large offsets: ``2||u||`` beats ``||u||^2`` beyond 1); eq. 7 read on
all of R would price constants through ``||c||^2`` only, which is not the infimum of (4). In "8"
constants are free.

The dual of (5) and its exact 1D check are in :mod:`pcheck.problems.dual` and
:mod:`pcheck.problems.dual_1d`, the exchange method in :mod:`pcheck.problems.exchange_1d`; for
``d_in > 1`` :func:`fit_function_space` dispatches to :mod:`pcheck.problems.patterns` and
:mod:`pcheck.problems.bounds_nd`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pcheck.core import scaled, status
from pcheck.core.angles import unit
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.tolerances import RTOL_CERTIFIED_ND
from pcheck.core.units import Units
from pcheck.core.validate import as_array, as_count, as_dataset, as_scalar
from pcheck.core.variant import as_variant
from pcheck.problems import bounds_nd, dual_1d, exchange_1d
from pcheck.problems.patterns import fit_patterns


@dataclass(frozen=True)
class FunctionSpaceFit:
    """A certified solution of the function-space problem (HTW eq. 5 in the eq.-4
    convention of the module docstring).

    ``objective`` is ``L + lam ||theta||^2`` of ``stack`` (a balanced network realizing the
    solution, eq. 4), ``lower_bound`` a dual value from a feasible dual point,
    ``gap = (objective - lower_bound) / objective``. The atoms are ``angles (K,)`` and
    ``masses (K, d_out)`` (``mu_k relu(cos(phi_k) x + sin(phi_k))``) plus the output bias
    ``c``; ``kinks``, ``directions`` and ``kink_masses`` give the kink form.

    ``method`` says how ``lower_bound`` was obtained: "exchange-1d" (``d_in = 1``, this
    module), "patterns-exact" / "patterns-sampled" (``d_in > 1``, ``d_out = 1``, the pattern
    program of :mod:`pcheck.problems.patterns`), "bounds-nd" (``d_in > 1``, ``d_out > 1``,
    :mod:`pcheck.problems.bounds_nd`), with " (upper only)" appended when the cells were too many to
    certify and ``lower_bound = 0``. For ``d_in > 1`` the atom fields are empty: the
    network is ``stack``.

    ``certified`` is True when ``gap <= tolerance`` (``gap_tol`` in 1D; in ``d_in > 1`` at least
    ``RTOL_CERTIFIED_ND``, the bar the conic solves reach); ``status`` is "optimal", "gap not
    reached", "upper bound only" (no lower bound: ``lower_bound = 0``) or "stopped above
    stop_above" (:mod:`pcheck.core.status`). Values are in the given units; the solvers work in
    internal units (:mod:`pcheck.core.units`, ``units``), and the relative ``gap`` is the same in both.
    """

    stack: Stack
    objective: float
    lower_bound: float
    gap: float
    variant: str
    lam: float
    angles: np.ndarray
    masses: np.ndarray
    c: np.ndarray
    iterations: int
    history: list = field(default_factory=list)
    method: str = "exchange-1d"
    certified: bool = False
    status: str = status.GAP_NOT_REACHED
    tolerance: float = 0.0
    units: object = None

    @property
    def n_atoms(self) -> int:
        """Number of neurons of the solution (kinks and the constant neuron; ``d_in > 1``:
        the width of ``stack``)."""
        return int(self.angles.shape[0]) if self.method == "exchange-1d" else self.stack.n

    @property
    def directions(self) -> np.ndarray:
        return np.sign(unit(self.angles)[0])

    @property
    def kinks(self) -> np.ndarray:
        """``p = -tan phi`` of the atoms with ``cos phi != 0``."""
        live = self.directions != 0
        return -np.tan(self.angles[live])

    @property
    def constant(self) -> np.ndarray:
        """Output of the ``v = 0`` neurons (``phi = pi/2``)."""
        return self.masses[self.directions == 0].sum(axis=0)
























































def fit_function_space(X, Y, lam, variant="7", *, gap_tol: float = exchange_1d.GAP_TOL, max_iter: int = 50,
                       allowed=None, stop_above=None, warn: bool = True) -> FunctionSpaceFit:
    """Certified minimum over all widths of HTW eq. (4), i.e. ``min_f L(f) + lam P(f)`` in
    the exact convention of the module docstring (eq. 5; "7": eq. 7, "8": eq. 8).

    ``X (N, 1)``, ``Y (N, d_out)``, ``lam > 0``. Returns a :class:`FunctionSpaceFit` whose
    ``objective`` is eq. (4) evaluated at the returned (balanced) ``stack`` and whose
    ``lower_bound`` is a certified dual value; iterates until ``gap <= gap_tol``.
    ``allowed (m, 2)``: closed angle intervals, each inside one activation arc; the problem
    is then restricted to atoms with angles in them (any number per interval), and the
    dual check, hence ``lower_bound``, covers exactly those atoms (:func:`allowed_pieces`).
    ``stop_above``: stop as soon as ``lower_bound`` exceeds it (branch and bound pruning).

    ``d_in > 1`` (see ``FunctionSpaceFit.method``): ``allowed`` and ``stop_above`` do not
    apply (they raise) and ``gap_tol`` is in general not reached. ``d_out = 1``: the pattern
    program (Pilanci & Ergen), patterns enumerated while ``patterns.MAX_ENUMERATED`` allows,
    sampled beyond; ``gap_tol`` and ``max_iter`` play no role; measured gaps 1e-9 to 2e-7
    when enumerated (N <= 32, d_in = 2, 3; Clarabel's accuracy), 1e-3 and more when
    sampled. ``d_out > 1``: :func:`pcheck.problems.bounds_nd.function_space_bounds` with at most
    ``max_iter`` exchange rounds, stopping at ``gap_tol``; measured gaps 1e-10 to 1.4e-8
    (N = 5, 6, 8, d_in = 2, 3, d_out = 3; benchmarks/bench_bounds_nd.py) in 0.1 to 4 s;
    near the limit below it takes minutes (N = 35, d_in = 2, "7": 50 to 100 s). When the exact
    cell sup would exceed ``bounds_nd.MAX_DUAL_WORK``, ``lower_bound = 0`` (eq. 4 is never
    negative) and ``method`` ends in "(upper only)".

    Scale: the data are solved in internal units ``X' = (X - t) / a``, ``Y' = Y / b`` (powers of
    two, exact; :mod:`pcheck.core.units`), in which eq. (4) is the given problem times ``1/b^2``
    with the atom costs measured by the metric of those units; results come back in the given
    units. A result whose gap stays above its tolerance is returned with ``certified = False``
    and, when ``warn``, one :class:`pcheck.core.status.UncertifiedWarning` (solvers calling this
    one pass ``warn=False`` and state their own status). ``Y`` whose eq. (4) (up to ``||Y||^2``)
    exceeds the float64 range raises ``ValueError``.
    """
    X, Y = as_dataset(X, Y)
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    variant = as_variant(variant, allowed=("7", "8"))
    if scaled.norm(Y) > np.sqrt(np.finfo(float).max):
        raise ValueError(f"Y is too large: eq. (4) of this data (up to ||Y||^2 = {scaled.norm(Y):.3e}^2) exceeds the "
                         "float64 range; rescale Y")
    if X.shape[1] > 1:
        for name, value in (("allowed", allowed), ("stop_above", stop_above)):
            if value is not None:
                raise ValueError(f"{name} applies to d_in = 1 only (angle intervals), got d_in = {X.shape[1]}")
        fit = _fit_nd(X, Y, lam, variant, as_scalar(gap_tol, "gap_tol", minimum=0.0), as_count(max_iter, "max_iter"))
        return _warned(fit, warn)
    gap_tol = as_scalar(gap_tol, "gap_tol", minimum=0.0)
    max_iter = as_count(max_iter, "max_iter")
    if allowed is not None:
        allowed = as_array(allowed, "allowed", ndim=2, shape=(None, 2))
        if not np.all((-np.pi / 2 <= allowed[:, 0]) & (allowed[:, 0] <= allowed[:, 1])
                      & (allowed[:, 1] <= 1.5 * np.pi)):
            raise ValueError("allowed must hold angle intervals [a, b] with -pi/2 <= a <= b <= 3 pi/2")
    if allowed is not None:
        dual_1d.allowed_pieces(np.unique(X[:, 0]), allowed)  # raises on an interval across an arc boundary
    stop_above = np.inf if stop_above is None else as_scalar(stop_above, "stop_above")
    units = Units.of(X, Y, variant, lam=lam)
    with exchange_1d.blas_controller().limit(limits=1, user_api="blas"):
        e = exchange_1d.exchange(X, Y, lam, variant, gap_tol, max_iter, allowed, stop_above, units)
    if e.gap <= gap_tol:
        state = status.OPTIMAL
    elif e.lower > stop_above:
        state = status.STOPPED_ABOVE
    else:
        state = status.GAP_NOT_REACHED
    fit = FunctionSpaceFit(e.stack, e.objective, e.lower, e.gap, variant, lam, e.angles, e.masses, e.c,
                           e.iterations, e.history, certified=state == status.OPTIMAL, status=state,
                           tolerance=gap_tol, units=units)
    return _warned(fit, warn)


def _warned(fit: FunctionSpaceFit, warn: bool) -> FunctionSpaceFit:
    if warn and not fit.certified:
        status.warn_uncertified(f"fit_function_space ({fit.method})", fit.status, fit.gap, fit.tolerance, stacklevel=4)
    return fit


#: ``d_in > 1``: the sparse network of :func:`pcheck.problems.bounds_nd.sparse_stack` (at most
#: ``N d_out`` neurons instead of hundreds) replaces the master's when its eq. (4) exceeds
#: the master's by at most this fraction of the certified gap. Reason: the re-solved master
#: on the LP support lands 1e-11..3e-9 relative above the dense one (measured on N = 6, 8,
#: d_in = 2, 3, d_out = 1..5, both variants), below the gap on every instance but one; a
#: slack of one gap at most doubles the reported interval (still far inside
#: ``testing.RTOL_CERTIFIED_ND``), and a compact network is what a researcher can read.
SPARSE_SLACK = 1.0


def _fit_nd(X, Y, lam, variant, gap_tol, max_iter) -> FunctionSpaceFit:
    """The ``d_in > 1`` dispatch of :func:`fit_function_space` on validated input. Eq. (8) is
    solved in the units of :class:`pcheck.core.units.Units` (``x = a x' + t``, ``y = b y'``), where
    it is eq. (8) again with ``lam / (a b)``; eq. (7) in the given units (its internal units need
    the metric-weighted master, implemented in 1D only)."""
    units = Units.of(X, Y, variant, lam=lam) if not variant.biases_regularized else Units.identity(X.shape[1], variant)
    lam_n = lam / (units.a * units.b) if not variant.biases_regularized else lam
    X_given, Y_given = X, Y
    X, Y = units.x(X), units.y(Y)
    certified = bounds_nd.dual_work(X.shape[0], X.shape[1], variant) <= bounds_nd.MAX_DUAL_WORK
    if Y.shape[1] == 1:
        p = fit_patterns(X, Y, lam_n, variant, warn=False)
        stack, objective, lower = p.stack, p.objective, p.lower
        method = "patterns-exact" if p.exact else "patterns-sampled"
        certified = p.status != status.UPPER_ONLY
    elif certified:
        b = bounds_nd.function_space_bounds(X, Y, lam_n, variant=variant, rounds=max_iter, gap_tol=gap_tol,
                                            warn=False)
        stack, objective, lower, method = b.stack, b.upper, b.lower, "bounds-nd"
    else:
        b = bounds_nd.sampled_upper(X, Y, lam_n, variant=variant)
        stack, objective, lower, method = b.stack, b.upper, 0.0, "bounds-nd"
    method += "" if certified else " (upper only)"
    sparse = bounds_nd.sparse_stack(X, Y, lam_n, stack, variant)
    sparse_objective = training_objective(sparse, X, Y, lam_n, variant)
    if sparse_objective - objective <= SPARSE_SLACK * max(objective - lower, 0.0):
        stack, objective = sparse, sparse_objective
    # back in the given units: eq. (4) of the returned network itself, the dual value times b^2
    stack = units.stack(stack)
    objective, lower = training_objective(stack, X_given, Y_given, lam, variant), units.value(lower)
    gap = (objective - lower) / max(objective, np.finfo(float).tiny)
    tolerance = max(gap_tol, RTOL_CERTIFIED_ND)
    state = status.UPPER_ONLY if not certified else status.OPTIMAL if gap <= tolerance else status.GAP_NOT_REACHED
    history = [{"iteration": 1, "atoms": stack.n, "objective": objective, "lower_bound": lower, "gap": gap}]
    return FunctionSpaceFit(stack, objective, lower, gap, variant, lam, np.zeros(0), np.zeros((0, Y.shape[1])),
                            np.array(stack.c), 1, history, method, certified=state == status.OPTIMAL, status=state,
                            tolerance=tolerance, units=units)













