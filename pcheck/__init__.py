"""pcheck: numerical, certified checks of the theory of wide ReLU networks trained with
weight decay (Heiss, Teichmann & Wutte, arXiv 2112.15577, and related papers).

The public API is re-exported here; ``pcheck.strategies`` (Hypothesis strategies) and
``pcheck.testing`` (assertion helpers) are imported on their own.
"""

import importlib

#: Where each public name lives. ``import pcheck`` imports none of these modules (numba,
#: scipy and cvxpy load only when a name is first used: PEP 562 ``__getattr__`` below), so
#: the pytest plugin, which pytest loads in every session, starts fast.
_EXPORTS = {
    "Stack": "pcheck.core.network", "Network": "pcheck.core.network",
    "evaluate_1d": "pcheck.core.network", "piecewise_affine": "pcheck.core.network",
    "PiecewiseAffine": "pcheck.core.evaluate1d",
    "g": "pcheck.core.costs", "network_cost": "pcheck.core.costs", "parameter_cost": "pcheck.core.costs",
    "Atoms": "pcheck.core.measure", "Kinks": "pcheck.core.measure", "atoms": "pcheck.core.measure",
    "kinks": "pcheck.core.measure", "hessian_pairing": "pcheck.core.measure",
    "smoothed_second_derivative": "pcheck.core.measure",
    "UncertifiedWarning": "pcheck.core.status",
    "rescale": "pcheck.core.rescaling", "balance": "pcheck.core.rescaling",
    "balanced_norm_sq": "pcheck.core.rescaling", "l2_norm_sq": "pcheck.core.rescaling",
    "claim": "pcheck.ledger", "Evidence": "pcheck.ledger", "Context": "pcheck.ledger",
    "property_check": "pcheck.ledger", "instance_check": "pcheck.ledger", "Refuted": "pcheck.ledger",
    "function_space_bounds": "pcheck.problems.bounds_nd", "BoundsND": "pcheck.problems.bounds_nd",
    "fit_function_space": "pcheck.problems.function_space", "FunctionSpaceFit": "pcheck.problems.function_space",
    "fit_gp": "pcheck.problems.gp", "nngp_kernel": "pcheck.problems.gp",
    "neuron_kernel": "pcheck.problems.neuron_kernel", "kernel_ridge": "pcheck.problems.neuron_kernel",
    "kernel_ridge_stack": "pcheck.problems.neuron_kernel", "kernel_transfer": "pcheck.problems.neuron_kernel",
    "KernelTransfer": "pcheck.problems.neuron_kernel",
    "fit_patterns": "pcheck.problems.patterns", "PatternFit": "pcheck.problems.patterns",
    "penalty": "pcheck.problems.penalty", "Penalty": "pcheck.problems.penalty",
    "fit_random_features": "pcheck.problems.random_features",
    "fit_network": "pcheck.problems.width", "NetworkFit": "pcheck.problems.width",
    "width_sufficiency": "pcheck.problems.width", "WidthVerdict": "pcheck.problems.width",
    "minimal_width": "pcheck.problems.minimal_width", "MinimalWidth": "pcheck.problems.minimal_width",
}

#: Subpackages and modules reachable as attributes (``pcheck.strategies``, ``pcheck.problems``, ...).
_SUBMODULES = ("core", "problems", "solvers", "papers", "harness", "ledger", "strategies", "testing", "sweep")


def __getattr__(name: str):
    """A public name's object, or a subpackage, imported on first use and then cached."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))


__version__ = "0.1.0"

__all__ = [
    "Stack", "Network", "UncertifiedWarning",
    "rescale", "balance", "balanced_norm_sq", "l2_norm_sq",
    "Atoms", "Kinks", "atoms", "kinks", "smoothed_second_derivative", "hessian_pairing",
    "evaluate_1d", "piecewise_affine", "PiecewiseAffine",
    "g", "parameter_cost", "network_cost",
    "penalty", "Penalty",
    "fit_random_features", "nngp_kernel", "fit_gp",
    "claim", "Evidence", "Context", "property_check", "instance_check", "Refuted",
    "fit_function_space", "FunctionSpaceFit",
    "fit_network", "NetworkFit", "width_sufficiency", "WidthVerdict", "minimal_width", "MinimalWidth",
    "fit_patterns", "PatternFit",
    "function_space_bounds", "BoundsND",
    "neuron_kernel", "kernel_ridge", "kernel_ridge_stack", "kernel_transfer", "KernelTransfer",
]
