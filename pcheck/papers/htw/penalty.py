"""HTW eq. (7)-(9), (11), (12) and section 4: identities of the exact penalty ``P_j``.

Every comparison goes through certificates: ``penalty`` returns ``[lower, upper]`` with a
relative gap <= RTOL_CERTIFIED, so ``P(a) <= P(b)`` is accepted when
``lower(a) <= upper(b)`` up to ``RTOL_CERTIFIED`` relative, and refuted only when
``lower(a) > upper(b)`` beyond it (the proofs notes give the derivations).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pcheck import strategies as pst
from pcheck.core.costs import atom_cost, parameter_cost
from pcheck.core.measure import kinks
from pcheck.core.network import Stack
from pcheck.core.rescaling import balance, l2_norm_sq
from pcheck.core.variant import Variant, as_variant
from pcheck.ledger import Evidence, claim, property_check
from pcheck.papers.htw.sources import SOURCES
from pcheck.problems.hyperplanes import hyperplane_program, savarese_value
from pcheck.problems.penalty import penalty
from pcheck.testing import RTOL_CERTIFIED

#: Two certified values are compared with this relative slack: both sides carry a certified
#: relative gap of at most RTOL_CERTIFIED, so a true equality can show a difference of up to
#: twice that.
SLACK = 2 * RTOL_CERTIFIED


def _slack(*values) -> float:
    return SLACK * max(max(abs(float(v)) for v in values), np.finfo(float).tiny)


def assert_le(lower: float, upper: float, what: str) -> float:
    """Certified ``a <= b`` from ``lower(a)`` and ``upper(b)``; returns the relative excess."""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        raise AssertionError(f"{what}: non-finite certificate {lower!r}, {upper!r}")
    if lower > upper + _slack(lower, upper):
        raise AssertionError(f"{what}: certified {lower!r} > {upper!r}")
    return max(0.0, (lower - upper) / max(abs(lower), abs(upper), np.finfo(float).tiny))


def assert_same(a, b, what: str) -> float:
    """Two certified results of the same number: their intervals overlap."""
    return max(assert_le(a.lower, b.upper, what), assert_le(b.lower, a.upper, what))


def one_d_stacks(**options):
    """Stacks with ``d_in = 1`` (unless ``d_in`` is given) and no skip connection, all edge cases on."""
    options = {"n": (0, 5), "d_in": 1, "d_out": (1, 3), "skip": False, **options}
    return pst.stacks(**options).filter(representable_kinks).filter(tame_magnitudes)


#: Parameters whose magnitude lies outside ``[1e-100, 1e100]`` (zero excepted) are not drawn:
#: penalties square them (``||c||^2``, ``v^2 + b^2``), and squares beyond ``1e+-154`` leave
#: float64's normal range, where no relative certificate is meaningful.
TAME = 1e100


def tame_magnitudes(s: Stack) -> bool:
    entries = np.concatenate([s.V.ravel(), s.b, s.W.ravel(), s.c] + ([] if s.A is None else [s.A.ravel()]))
    nonzero = np.abs(entries[entries != 0])
    return bool(np.all((nonzero >= 1 / TAME) & (nonzero <= TAME)))


def representable_kinks(s: Stack) -> bool:
    """Hyperplane offsets ``-b/||v||`` inside the float64 range (``penalty`` rejects the others)."""
    v = np.linalg.norm(s.V, axis=1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return bool(np.all(np.isfinite(s.b[v != 0] / v[v != 0])))


# --------------------------------------------------------------------------- invariance


@st.composite
def stack_and_twins(draw):
    """A stack (``d_in`` 1 or 2) and its metamorphic twins: rescaled neurons, permuted neurons, one neuron split
    into two parallel copies (``t w`` and ``(1 - t) w``, the second rescaled) and an added
    zero-mass neuron. All compute the same function."""
    s = draw(one_d_stacks(n=(1, 5), d_in=(1, 2)))
    n = s.n
    alpha = np.array(draw(st.lists(st.sampled_from([0.25, 0.5, 2.0, 3.0]), min_size=n, max_size=n)))
    rescaled = s.replace(V=s.V * alpha[:, None], b=s.b * alpha, W=s.W / alpha[None, :])
    perm = np.array(draw(st.permutations(range(n))))
    permuted = s.replace(V=s.V[perm], b=s.b[perm], W=s.W[:, perm])
    k, t, r = draw(st.integers(0, n - 1)), draw(st.sampled_from([0.25, 0.5, 2.0])), draw(st.sampled_from([0.5, 4.0]))
    split = s.replace(V=np.vstack([s.V, r * s.V[k]]), b=np.append(s.b, r * s.b[k]),
                      W=np.hstack([s.W, ((1 - t) / r) * s.W[:, k:k + 1]]))
    split = split.replace(W=np.where(np.arange(n + 1)[None, :] == k, t * split.W, split.W))
    v0 = [draw(pst.floats()) for _ in range(s.d_in)]
    padded = s.replace(V=np.vstack([s.V, [v0]]), b=np.append(s.b, draw(pst.floats())),
                       W=np.hstack([s.W, np.zeros((s.d_out, 1))]))
    variant = draw(st.sampled_from(["7", "8"]))
    return s, {"rescaled": rescaled, "permuted": permuted, "split": split, "zero-mass": padded}, variant


def twins_have_same_penalty(example) -> float:
    s, twins, variant = example
    base = penalty(s, variant)
    return max(assert_same(penalty(twin, variant), base, f"P_{variant} of the {name} twin")
               for name, twin in twins.items())


@claim("htw.penalty.invariance", note="htw-penalty-invariance.md", variants=("7", "8"),
       statement="P_j(h) depends on the function only: it is unchanged under rescaling neurons, permuting them, "
                 "splitting a neuron into two parallel copies and adding zero-mass neurons.",
       **SOURCES["htw.penalty.invariance"])
def check_invariance(ctx):
    return property_check(ctx, stack_and_twins(), twins_have_same_penalty, measure="relative excess over overlap")


# --------------------------------------------------------------------------- upper bound


@st.composite
def stack_and_variant(draw, **options):
    return draw(one_d_stacks(**options)), draw(st.sampled_from(["7", "8"]))


def penalty_below_cost(example) -> float:
    s, variant = example
    return assert_le(penalty(s, variant).lower, parameter_cost(s, variant), f"P_{variant} vs R_{variant}")


@st.composite
def tight_stacks(draw):
    """Stacks satisfying condition (E) of the note: ``c = 0``, no neuron with ``v = 0``, kink
    positions distinct (so masses at one kink cannot disagree)."""
    n = draw(st.integers(0, 5))
    d_out = draw(st.integers(1, 3))
    p = draw(st.lists(st.integers(-12, 12), min_size=n, max_size=n, unique=True))
    v = np.array(draw(st.lists(st.sampled_from([-2.0, -1.0, -0.5, 0.5, 1.0, 3.0]), min_size=n, max_size=n)))
    W = np.array(draw(st.lists(st.lists(pst.floats(), min_size=n, max_size=n), min_size=d_out, max_size=d_out)))
    return Stack(v[:, None], -v * np.array(p, dtype=float) / 4, W.reshape(d_out, n), np.zeros(d_out))


def penalty_equals_cost(s: Stack) -> float:
    result, cost = penalty(s), parameter_cost(s)
    assert_le(result.lower, cost, "P_7 vs R_7")
    return assert_le(cost, result.upper, "R_7 vs P_7 under condition (E)")


@claim("htw.penalty.upper_bound", note="htw-penalty-upper-bound.md", variants=("7", "8"),
       statement="P_j(h_theta) <= R_j(theta) (parameter cost), with equality for eq. 7 when c = 0, no neuron has "
                 "v = 0 and the neurons' masses at each kink are positively parallel (condition (E)).",
       **SOURCES["htw.penalty.upper_bound"])
def check_upper_bound(ctx):
    first = property_check(ctx, stack_and_variant(d_in=(1, 2)), penalty_below_cost, measure="relative excess")
    if first.verdict != "holds":
        return first
    second = property_check(ctx, tight_stacks(), penalty_equals_cost, measure="relative excess")
    second.examples += first.examples
    second.residual = max(first.residual, second.residual)
    return second


# --------------------------------------------------------------------------- convexity


@st.composite
def two_stacks_and_weight(draw):
    d_out, d_in = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    options = dict(n=(0, 4), d_in=d_in, d_out=d_out, scale=False)
    s1, s2 = draw(one_d_stacks(**options)), draw(one_d_stacks(**options))
    t = draw(st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
    scale = draw(st.sampled_from([0.5, 2.0, 10.0]))
    return s1, s2, t, scale, draw(st.sampled_from(["7", "8"]))


def convex_and_homogeneous(example) -> float:
    s1, s2, t, scale, variant = example
    mix = Stack.concatenate([s1, s2], weights=[t, 1 - t])
    p1, p2 = penalty(s1, variant), penalty(s2, variant)
    excess = assert_le(penalty(mix, variant).lower, t * p1.upper + (1 - t) * p2.upper,
                       f"P_{variant}(t h1 + (1-t) h2) vs t P(h1) + (1-t) P(h2)")
    if not as_variant(variant).biases_regularized:  # eq. 8 has no ||c||^2: P_8 is positively homogeneous
        scaled = penalty(s1.replace(W=scale * s1.W, c=scale * s1.c), "8")
        excess = max(excess, assert_le(scaled.lower, scale * p1.upper, "P_8(a h) vs a P_8(h)"),
                     assert_le(scale * p1.lower, scaled.upper, "a P_8(h) vs P_8(a h)"))
    return excess


@claim("htw.penalty.convexity", note="htw-penalty-convexity.md", variants=("7", "8"),
       statement="P_j is convex: P(t h1 + (1-t) h2) <= t P(h1) + (1-t) P(h2); P_8 is positively homogeneous; hence "
                 "L(f) + lambda P(f) (problem (5), one stack) is convex.",
       **SOURCES["htw.penalty.convexity"])
def check_convexity(ctx):
    return property_check(ctx, two_stacks_and_weight(), convex_and_homogeneous, measure="relative excess")


# --------------------------------------------------------------------------- coupling


def task(s: Stack, o: int) -> Stack:
    """Output row ``o`` of ``s`` as a scalar stack."""
    return s.replace(W=s.W[o:o + 1], c=s.c[o:o + 1], A=None if s.A is None else s.A[o:o + 1])


def curvature(s: Stack, norm=np.linalg.norm) -> float:
    """``int omega ||h''||`` over R: ``sum_p omega(p) norm(J_p)`` (HTW section 4's ``int ||f''||_2``
    with eq. 7's weight)."""
    kk = kinks(s)
    return float(np.sum(atom_cost(kk.x, Variant("7")) * norm(kk.jump, axis=1))) if len(kk.x) else 0.0


def kink_sharing(s: Stack) -> float:
    """``sum_p omega(p) sum_{o < o'} |J_po| |J_po'| / ||J_p||_1``: zero iff no two tasks have
    curvature at the same kink, and a lower bound of ``sum_p omega(p) (||J_p||_1 - ||J_p||_2)``
    (since ``||J||_1^2 - ||J||_2^2 = 2 sum_{o<o'} |J_o J_o'|`` and ``||J||_1 + ||J||_2 <= 2 ||J||_1``),
    i.e. of the strict gap the Euclidean coupling must show."""
    kk = kinks(s)
    a = np.abs(kk.jump)
    l1 = a.sum(axis=1)
    pairs = (l1**2 - np.sum(a * a, axis=1)) / 2
    return float(np.sum(atom_cost(kk.x, Variant("7")) * pairs / np.where(l1 > 0, l1, 1.0)))


def shares_a_kink(s: Stack) -> bool:
    """Do two tasks have curvature at the same kink?"""
    return kink_sharing(s) > 0


def curvature_couples(s: Stack, norm=np.linalg.norm) -> float:
    """``int ||h''|| <= sum_o int |h_o''|``, with equality when no two tasks share a kink and a
    strict gap of at least :func:`kink_sharing` when they do (for the Euclidean norm); gaps
    below the comparison slack are not evidence either way. ``norm`` is a parameter so the
    tests can feed a wrong one."""
    joint, separate = curvature(s, norm), sum(curvature(task(s, o), norm) for o in range(s.d_out))
    assert_le(joint, separate, "int ||h''|| vs sum of the tasks'")
    slack = _slack(joint, separate)
    sharing = kink_sharing(s)
    if sharing == 0 and separate - joint > slack:
        raise AssertionError(f"no shared kink but strict inequality (joint {joint!r}, separate {separate!r})")
    if sharing > 4 * slack and separate - joint < sharing / 2:
        raise AssertionError(f"tasks share a kink (gap must be >= {sharing!r}) but joint {joint!r}, "
                             f"separate {separate!r}")
    return 0.0


def penalty_couples(example) -> float:
    s, variant = example
    joint = penalty(s, variant)
    separate = [penalty(task(s, o), variant) for o in range(s.d_out)]
    curvature_couples(s)
    return assert_le(joint.lower, sum(r.upper for r in separate), f"P_{variant}(h) vs sum_o P_{variant}(h_o)")


@claim("htw.penalty.coupling", note="htw-penalty-coupling.md", variants=("7", "8"),
       statement="The multi-task penalty is at most the sum of the per-task penalties, P_j(h) <= sum_o P_j(h_o); "
                 "for the curvature part, int ||h''||_2 <= sum_o int |h_o''| with equality iff no two tasks have "
                 "curvature at the same kink (both parts are ours: section 4 says only 'in general not equal').",
       **SOURCES["htw.penalty.coupling"])
def check_coupling(ctx):
    return property_check(ctx, stack_and_variant(d_out=(2, 3)), penalty_couples, measure="relative excess")


def equality_iff_no_shared_kink(s: Stack) -> float:
    joint, separate = penalty(s), [penalty(task(s, o)) for o in range(s.d_out)]
    upper = sum(r.upper for r in separate)
    strict = sum(r.lower for r in separate) - joint.upper > _slack(upper, joint.upper)
    equal = upper - joint.lower <= _slack(upper, joint.lower)
    sharing = kink_sharing(s)
    if strict == equal or 0 < sharing <= 4 * _slack(upper, joint.upper):
        return 0.0  # undecided within the certified gaps: not evidence either way
    if strict != shares_a_kink(s):
        prog = hyperplane_program(s)
        raise AssertionError(f"P_7(h) {'<' if strict else '='} sum_o P_7(h_o) ({joint.value!r} vs {upper!r}) "
                             f"but shares_a_kink = {shares_a_kink(s)}; h(x) = sum_p J_p (x - p)_+ + L x + C with "
                             f"p = {prog.r.tolist()}, J = {prog.J.tolist()}, L = {prog.L[:, 0].tolist()}, "
                             f"C = {prog.C.tolist()}")
    return 0.0


@claim("htw.penalty.coupling_equality", note="htw-penalty-coupling.md", expected="refuted", variants=("7",),
       statement="Our extension of section 4, which says only that the joint and per-task curvatures are 'in general "
                 "not equal': P_7(h) = sum_o P_7(h_o) exactly when no two tasks have curvature at the same kink.",
       **SOURCES["htw.penalty.coupling_equality"])
def check_coupling_equality(ctx):
    return property_check(ctx, one_d_stacks(d_out=2, scale=False), equality_iff_no_shared_kink, measure="none")


#: Ridge solutions computed two ways (one joint solve, d_out separate solves) differ by
#: rounding amplified by the condition number of ``Phi^T Phi + lam I`` (at most
#: ``1 + ||Phi||^2 / lam <= 1e4`` for the sizes drawn) times eps: 1e-10 relative is safe.
RF_RTOL = 1e-10


@st.composite
def random_feature_problems(draw):
    N, n, d_out = draw(st.integers(1, 6)), draw(st.integers(1, 8)), draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    lam = draw(st.sampled_from([0.1, 1.0, 10.0]))
    return N, n, d_out, seed, lam


def random_features_split(example) -> float:
    """With ``(V, b)`` frozen, ``min ||Phi W^T - Y||^2 + lam ||W||_F^2`` solved jointly equals the
    per-task solves, and its optimal value is the sum of the per-task optimal values."""
    N, n, d_out, seed, lam = example
    rng = np.random.default_rng(seed)
    X, Y = rng.uniform(-2, 2, (N, 1)), rng.standard_normal((N, d_out))
    V, b = rng.standard_normal((n, 1)), rng.standard_normal(n)
    Phi = np.maximum(X @ V.T + b, 0.0)
    system = np.kron(np.eye(d_out), Phi.T @ Phi + lam * np.eye(n))  # vec(W^T) in one coupled solve
    joint = np.linalg.solve(system, (Phi.T @ Y).T.ravel()).reshape(d_out, n)
    per_task = np.array([np.linalg.solve(Phi.T @ Phi + lam * np.eye(n), Phi.T @ Y[:, o]) for o in range(d_out)])

    def objective(W, y):
        return float(np.sum((Phi @ W.T - y) ** 2) + lam * np.sum(W**2))

    err = float(np.max(np.abs(joint - per_task)) / max(np.max(np.abs(per_task)), np.finfo(float).tiny))
    if err > RF_RTOL:
        raise AssertionError(f"joint and per-task ridge solutions differ by {err:.2e}")
    total = sum(objective(per_task[o:o + 1], Y[:, o:o + 1]) for o in range(d_out))
    gap = abs(objective(joint, Y) - total) / max(total, np.finfo(float).tiny)
    if gap > RF_RTOL:
        raise AssertionError(f"joint objective is not the sum of the tasks' ({gap:.2e})")
    return max(err, gap)


@claim("htw.penalty.rf_split", note="htw-penalty-coupling.md",
       statement="With the first layer random and frozen the penalty ||W||_F^2 = sum_o ||W_o||^2 splits over tasks: "
                 "the joint ridge fit equals the separate fits.", **SOURCES["htw.penalty.rf_split"])
def check_rf_split(ctx):
    return property_check(ctx, random_feature_problems(), random_features_split, measure="relative difference")


# --------------------------------------------------------------------------- factor 2


def halved(s: Stack) -> Stack:
    return s.replace(W=s.W / 2, c=s.c / 2)


def doubled(s: Stack) -> Stack:
    return s.replace(W=2 * s.W, c=2 * s.c)


def factor2_identity(s: Stack) -> float:
    """``inf {||theta||^2 : h_theta = h} = 4 P_7(h/2)``: attained by the balanced, doubled optimal
    representation of ``h/2``; below ``||balance(theta)||^2`` of ``s`` and of ``P_7(h)``'s own
    optimum (``2 atoms + ||c||^2`` there); and between ``P_7(h)`` and ``2 P_7(h)``."""
    half, full = penalty(halved(s)), penalty(s)
    attained = l2_norm_sq(balance(doubled(half.representation)))
    excess = max(assert_le(4 * half.lower, attained, "4 P_7(h/2) vs its representation's ||theta||^2"),
                 assert_le(attained, 4 * half.upper, "||theta||^2 of the representation vs 4 P_7(h/2)"))
    for name, other in (("the stack", s), ("P_7(h)'s representation", full.representation)):
        excess = max(excess, assert_le(4 * half.lower, l2_norm_sq(balance(other)), f"4 P_7(h/2) vs {name}"))
    excess = max(excess, assert_le(full.lower, 4 * half.upper, "P_7(h) vs 4 P_7(h/2)"),
                 assert_le(4 * half.lower, 2 * full.upper, "4 P_7(h/2) vs 2 P_7(h)"))
    return excess


@claim("htw.penalty.factor2", note="htw-penalty-factor2.md", variants=("7",),
       statement="At the function level, inf{||theta||^2 : h_theta = h} = min over representations of "
                 "2 (atom part) + ||c||^2 = 4 P_7(h/2), attained by balance(2 * representation of h/2); "
                 "P_7(h) <= 4 P_7(h/2) <= 2 P_7(h).",
       **SOURCES["htw.penalty.factor2"])
def check_factor2(ctx):
    return property_check(ctx, one_d_stacks(d_in=(1, 2)), factor2_identity, measure="relative excess")


# --------------------------------------------------------------------------- known values


def huber(t: np.ndarray) -> float:
    """``P_7`` of the constant ``t``: ``min_{c + e = t} ||c||^2 + ||e||`` = ``||t||^2`` for
    ``||t|| <= 1/2``, ``||t|| - 1/4`` beyond (note htw-penalty-known-values.md)."""
    r = float(np.linalg.norm(t))
    return r * r if r <= 0.5 else r - 0.25


def _line(V, b, W, c) -> Stack:
    W = np.asarray(W, dtype=float)
    return Stack(np.asarray(V, dtype=float).reshape(-1, 1), b, W.reshape(len(c), -1), c)


#: (name, stack, variant, exact value with its derivation in htw-penalty-known-values.md)
KNOWN_VALUES = (
    ("P_7(0) = 0", _line(np.zeros((0, 1)), [], np.zeros((1, 0)), [0.0]), "7", 0.0),
    ("P_7(|x|) = 2", _line([1, -1], [0, 0], [[1, 1]], [0.0]), "7", 2.0),
    ("P_7(x) = 2", _line([1, -1], [0, 0], [[1, -1]], [0.0]), "7", 2.0),
    ("P_7((3x, 4x)) = 2 ||(3, 4)|| = 10", _line([1, -1], [0, 0], [[3, -3], [4, -4]], [0.0, 0.0]), "7", 10.0),
    ("P_7(relu(x - 1)) = sqrt(2)", _line([1], [-1], [[1]], [0.0]), "7", float(np.sqrt(2))),
    ("P_7(t) = t^2 at t = 0.3", _line(np.zeros((0, 1)), [], np.zeros((1, 0)), [0.3]), "7", 0.09),
    ("P_7(t) = ||t|| - 1/4 at t = (3, 4)", _line(np.zeros((0, 1)), [], np.zeros((2, 0)), [3.0, 4.0]), "7", 4.75),
    ("P_8(x) = 2", _line([1, -1], [0, 0], [[1, -1]], [0.0]), "8", 2.0),
    ("P_8(|x|) = 2", _line([1, -1], [0, 0], [[1, 1]], [0.0]), "8", 2.0),
    ("P_8(relu(x)) = 1", _line([1], [0], [[1]], [5.0]), "8", 1.0),
    ("P_9(x) = 2", _line([1, -1], [0, 0], [[1, -1]], [0.0]), "9", 2.0),
    ("P_11(x) = 1 (skip: min_a a^2 + 2|1 - a| at a = 1)",
     Stack(np.zeros((0, 1)), [], np.zeros((1, 0)), [0.0], [[1.0]]), "11", 1.0),
    ("P_12(x) = 1 (skip: min_a |a| + 2|1 - a| at a = 1)",
     Stack(np.zeros((0, 1)), [], np.zeros((1, 0)), [0.0], [[1.0]]), "12", 1.0),
    ("P_7(x1 + x2) = 2 sqrt(2) (nuclear norm of [1 1 0])",
     Stack([[1.0, 1.0], [-1.0, -1.0]], [0.0, 0.0], [[1.0, -1.0]], [0.0]), "7", 2 * float(np.sqrt(2))),
    ("P_7((x1, x2)) = 4 (nuclear norm of [I 0])",
     Stack([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], np.zeros(4), [[1.0, -1.0, 0.0, 0.0],
                                                                             [0.0, 0.0, 1.0, -1.0]], [0.0, 0.0]),
     "7", 4.0),
    ("P_7(relu(x1 + x2 - 1)) = ||(1, 1, -1)|| = sqrt(3)", Stack([[1.0, 1.0]], [-1.0], [[1.0]], [0.0]), "7",
     float(np.sqrt(3))),
    ("P_12(x through A = I_2) = 2 (min_a ||a||_* + 2 ||I - a||_* at a = I)",
     Stack(np.zeros((0, 2)), [], np.zeros((2, 0)), [0.0, 0.0], np.eye(2)), "12", 2.0),
)


def check_known(name: str, s: Stack, variant: str, expected: float) -> float:
    r = penalty(s, variant)
    return max(assert_le(r.lower, expected, name), assert_le(expected, r.upper, name))


@claim("htw.penalty.known_values", note="htw-penalty-known-values.md", variants=("7", "8", "9", "11", "12"),
       statement="Under pcheck's reading of eq. 7 (values the paper does not give): "
                 "P_7(0) = 0, P_7(|x|) = P_7(x) = 2, P_7(a x) = 2||a||, P_7(t) = ||t||^2 for ||t|| <= 1/2, "
                 "P_8(x) = P_8(|x|) = 2, P_11(x) = P_12(x) = 1, and in d_in = 2 P_7(x1 + x2) = 2 sqrt 2, "
                 "P_7((x1, x2)) = 4, each inside the certified interval.",
       **SOURCES["htw.penalty.known_values"])
def check_known_values(ctx):
    worst = 0.0
    rows = KNOWN_VALUES
    for i, row in enumerate(rows):
        try:
            worst = max(worst, check_known(*row))
        except AssertionError as exc:
            return Evidence("refuted", i + 1, worst, "relative excess", counterexample=str(exc))
    return Evidence("holds", len(rows), worst, "relative excess")


@claim("htw.penalty.constant", note="htw-penalty-known-values.md", expected="refuted", variants=("7",),
       statement="A convention of our own design notes, not the paper's (it never evaluates P at a constant): "
                 "P_7(t) = ||t||^2 for every constant function t. Refuted under pcheck's reading of eq. 7 "
                 "(t = 1: a v = 0 neuron makes P_7(1) = 3/4).",
       **SOURCES["htw.penalty.constant"])
def check_constant(ctx):
    """Certified counterexample: ``h = 1``. The stack ``c = 1/2`` plus the neuron ``w relu(b)``
    with ``v = 0``, ``w = b = sqrt(1/2)`` computes 1 at cost ``1/4 + 1/2 = 3/4 < 1``."""
    worst = 0.0
    for t in (0.1, 0.5, 1.0, 2.0):
        s = Stack(np.zeros((0, 1)), [], np.zeros((1, 0)), [t])
        r = penalty(s)
        worst = max(worst, check_known(f"P_7({t}) = Huber value", s, "7", huber(np.array([t]))))
        if r.upper < t * t - _slack(t * t, r.upper):
            witness = Stack([[0.0]], [np.sqrt(0.5)], [[np.sqrt(0.5)]], [0.5]) if t == 1.0 else r.representation
            return Evidence("refuted", 1, worst, "certified P_7(t) vs t^2",
                            counterexample=f"t = {t}: P_7(t) <= {r.upper!r} < t^2 = {t * t!r}; representation "
                                           f"V={witness.V.tolist()} b={witness.b.tolist()} W={witness.W.tolist()} "
                                           f"c={witness.c.tolist()} with R_7 = {parameter_cost(witness)!r}",
                            details={"t": t, "upper": r.upper, "lower": r.lower})
    return Evidence("holds", 4, worst, "certified P_7(t) vs t^2")


# --------------------------------------------------------------------------- Savarese, eq. 9


def savarese_matches_p8(s: Stack) -> float:
    """Scalar output: the exact ``P_8`` (conic program) equals Savarese et al.'s closed form
    ``max(int |f''|, |f'(-inf) + f'(+inf)|)``."""
    r, closed = penalty(s, "8"), savarese_value(hyperplane_program(s))
    return max(assert_le(r.lower, closed, "P_8 vs Savarese"), assert_le(closed, r.upper, "Savarese vs P_8"))


@claim("htw.penalty.savarese", note="htw-penalty-savarese.md", variants=("8", "9"),
       statement="For d_in = d_out = 1, P_8(f) = max(int |f''|, |f'(-inf) + f'(+inf)|) (= P_9(f)).",
       **SOURCES["htw.penalty.savarese"])
def check_savarese(ctx):
    return property_check(ctx, one_d_stacks(d_out=1), savarese_matches_p8, measure="relative excess")


#: h(x) = (relu(x), x): P_9 = max(1, ||2 (0, 1) + (1, 0)||) = sqrt(5), P_8 = 1 + sqrt(2)
#: (note htw-penalty-savarese.md).
EQ9_WITNESS = Stack([[1.0], [1.0], [-1.0]], [0.0, 0.0, 0.0], [[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]], [0.0, 0.0])


@claim("htw.penalty.eq9_vector", note="htw-penalty-savarese.md", expected="refuted", variants=("8", "9"),
       statement="Eq. (9) reformulates eq. (8) for vector outputs too: P_8(h) = P_9(h) for d_out >= 2.",
       **SOURCES["htw.penalty.eq9_vector"])
def check_eq9_vector(ctx):
    p8, p9 = penalty(EQ9_WITNESS, "8"), penalty(EQ9_WITNESS, "9")
    if p8.lower > p9.upper + _slack(p8.lower, p9.upper):
        return Evidence("refuted", 1, (p8.lower - p9.upper) / p8.lower, "certified relative excess of P_8 over P_9",
                        counterexample=f"h(x) = (relu(x), x): P_8 >= {p8.lower!r} > P_9 = {p9.value!r}",
                        details={"P8_lower": p8.lower, "P8_upper": p8.upper, "P9": p9.value})
    return Evidence("holds", 1, 0.0, "certified relative excess of P_8 over P_9")
