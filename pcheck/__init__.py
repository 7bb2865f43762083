"""pcheck: numerical, certified checks of the theory of wide ReLU networks trained with
weight decay (Heiss, Teichmann & Wutte, arXiv 2112.15577, and related papers).

The public API is re-exported here; ``pcheck.strategies`` (Hypothesis strategies) and
``pcheck.testing`` (assertion helpers) are imported on their own.
"""

from pcheck.core.costs import g, network_cost, parameter_cost
from pcheck.core.evaluate1d import PiecewiseAffine
from pcheck.core.measure import (
    Atoms,
    Kinks,
    atoms,
    hessian_pairing,
    kinks,
    smoothed_second_derivative,
)
from pcheck.core.network import Network, Stack, evaluate_1d, piecewise_affine
from pcheck.core.rescaling import balance, balanced_norm_sq, l2_norm_sq, rescale
from pcheck.ledger import Evidence, claim
from pcheck.problems.bounds_nd import BoundsND, function_space_bounds
from pcheck.problems.function_space import FunctionSpaceFit, fit_function_space
from pcheck.problems.gp import fit_gp, nngp_kernel
from pcheck.problems.minimal_width import MinimalWidth, minimal_width
from pcheck.problems.neuron_kernel import (
    KernelTransfer,
    kernel_ridge,
    kernel_ridge_stack,
    kernel_transfer,
    neuron_kernel,
)
from pcheck.problems.patterns import PatternFit, fit_patterns
from pcheck.problems.penalty import Penalty, penalty
from pcheck.problems.random_features import fit_random_features
from pcheck.problems.width import (
    NetworkFit,
    WidthVerdict,
    fit_network,
    width_sufficiency,
)

__version__ = "0.1.0"

__all__ = [
    "Stack", "Network",
    "rescale", "balance", "balanced_norm_sq", "l2_norm_sq",
    "Atoms", "Kinks", "atoms", "kinks", "smoothed_second_derivative", "hessian_pairing",
    "evaluate_1d", "piecewise_affine", "PiecewiseAffine",
    "g", "parameter_cost", "network_cost",
    "penalty", "Penalty",
    "fit_random_features", "nngp_kernel", "fit_gp",
    "claim", "Evidence",
    "fit_function_space", "FunctionSpaceFit",
    "fit_network", "NetworkFit", "width_sufficiency", "WidthVerdict", "minimal_width", "MinimalWidth",
    "fit_patterns", "PatternFit",
    "function_space_bounds", "BoundsND",
    "neuron_kernel", "kernel_ridge", "kernel_ridge_stack", "kernel_transfer", "KernelTransfer",
]
