"""Ledger evidence from a width certificate: no width-(N+1) network reaches the certified (5)
optimum (used by Theorem 3.2 and its one-stack Corollary 3.3 case)."""

from __future__ import annotations

from pcheck.ledger import Evidence
from pcheck.problems.width import width_sufficiency


def certified_width_refutation(ctx, X, Y, lam, seed) -> Evidence:
    """Evidence that no width-(N+1) network (variant "7") reaches the certified (5) optimum:
    "refuted" when the branch and bound (``MINIMAL_NODES`` solves) certifies every width-(N+1)
    network's (4) above it (htw-thm3_2.md, "From the certificate to the theorem"), else "open"."""
    N, d_out = Y.shape
    restarts = ctx.pick(dev=1, ci=2, thorough=20, nojit=1)
    v = width_sufficiency(X, Y, lam, variant="7", seed=seed, restarts=restarts, max_nodes=MINIMAL_NODES)
    bound = v.width_bound
    certified = bound.lower_bound if bound is not None else float("nan")
    # residual: how far every width-(N+1) network is certified above the (5) optimum (relative)
    excess = (certified - v.upper_bound) / v.upper_bound
    details = dict(N=N, d_out=d_out, lam=lam, variant="7", function_space_objective=v.upper_bound,
                   function_space_lower_bound=v.lower_bound, function_space_atoms=v.atoms,
                   best_width_N_plus_1_network=v.network_objective, width_N_plus_1_certified_lower_bound=certified,
                   branch_and_bound=None if bound is None else dict(status=bound.status, nodes=bound.nodes))
    if v.verdict != "refuted":
        return Evidence("open", 1, float(v.margin), "relative margin of the best width-(N+1) network over the bound",
                        details=details)
    return Evidence("refuted", 1, float(excess),
                    "relative excess of the certified width-(N+1) lower bound over the certified (5) optimum",
                    counterexample=f"x = {X[:, 0].tolist()}, Y = {Y.tolist()}, lam = {lam}, variant '7': "
                                   f"min (5) = {v.upper_bound!r} < {certified!r} <= every width-{N + 1} network's (4); "
                                   f"best width-{N + 1} network {v.network_objective!r}",
                    details=details)


#: Restricted solves the branch and bound may spend (it needs ~260 on the instance above).
MINIMAL_NODES = 3000
