"""Where each ``shenouda.*`` ledger entry comes from: source, verbatim quote, reading, origin, free choices.

``SOURCES[claim_id]`` holds the keyword arguments ``source``, ``quote``, ``reading``, ``origin``,
``free_choices`` and ``derived_from`` of :func:`pcheck.ledger.claim`. The stored copy of the paper
(``shared/seeds/shenouda-et-al-multitask-relu-summary.txt``) holds its abstract (under "Summary",
an earlier arXiv version: "diverse tasks", "kernel method") and a third-party "AI Quick Summary";
the quotes below are the abstract's words only. Section titles are those of arXiv 2410.21696v4
(3 "Univariate Multi-Task Neural Network Solutions", 4 "Multivariate Multi-Task Neural Network
Training"); the theorems themselves are not in the stored copy. The paper's setting: shallow
ReLU networks, weight decay on the weights only (biases unregularized: HTW variant "8"),
interpolation.

Origins as in :mod:`pcheck.papers.htw.sources`.
"""

from __future__ import annotations

NSN = "Nakhleh, Shenouda & Nowak, arXiv 2410.21696 (NeurIPS 2024)"
BF = "Boursier & Flammarion, arXiv 2303.01353 (NeurIPS 2023)"

# ----------------------------------------------------------------------------- quotes (verbatim, abstract)

Q_NONUNIQUE = ("It is known that single-task neural network training problems are equivalent to minimum norm "
               "interpolation problem in a non-Hilbertian Banach space, and that the solutions of such problems are "
               "generally non-unique.")
Q_UNIQUE = ("In contrast, we prove that the solutions to univariate-input, multi-task neural network interpolation "
            "problems are almost always unique, and coincide with the solution to a minimum-norm interpolation "
            "problem in a Sobolev (Reproducing Kernel) Hilbert Space.")
Q_KERNEL = ("Remarkably, the solutions learned for each individual task resemble those obtained by solving a kernel "
            "method, revealing a novel connection between neural networks and kernel methods.")
Q_FIXED = (r"We also demonstrate a similar phenomenon in the multivariate-input case; specifically, we show that "
           r"neural network learning problems with large numbers of diverse tasks are approximately equivalent to "
           r"an $\ell^2$ (Hilbert space) minimization problem over a fixed kernel determined by the optimal neurons.")

UNIVARIATE = f"{NSN}, abstract (section 3 of v4)"
MULTIVARIATE = f"{NSN}, abstract (section 4 of v4)"
NO_BIAS = "unregularized (variant 8), the paper's setting"
BOTH_BIASES = "unregularized (variant 8, the paper's setting) and penalized (variant 7, our extension)"
REGULARIZED = ("lam > 0 instead of interpolation: a minimizer of the regularized problem is a minimum-norm "
               "interpolant of its own fitted values")
MULTIVARIATE_SETTING = {
    "'diverse tasks'": "i.i.d. N(0, 1) labels on the same N = 6 inputs uniform in [-1, 1]^2",
    "bias regularization": BOTH_BIASES,
    "lam": "0.1 (dev, ci); 0.1 and 0.01 (thorough); the paper: interpolation",
    "T": "1, 4, 16 (thorough: 1, 2, 4, 8, 16); medians over 3 seeds (thorough: 5)",
}

SOURCES = {
    "shenouda.single_task_nonunique": dict(
        source=UNIVARIATE, quote=Q_NONUNIQUE, origin="paper",
        reading="Variant 8, lam = 0.01, one task, x = (-1, -0.5, 0.1, 0.4, 1), y = x^2: the certified optimum and the "
                "network that merges its consecutive same-sign kinks at -0.5 and 0.1 have the same objective within "
                "the certified gap and differ as functions: two minimizers.",
        free_choices={"problem": REGULARIZED, "data": "one convex example ('generally' is shown on an instance, not "
                                                      "measured over a distribution)",
                      "bias regularization": NO_BIAS}),
    "shenouda.multitask_unique": dict(
        source=UNIVARIATE, quote=Q_UNIQUE, origin="reading",
        reading="Variant 8, lam = 0.01, T = 2, 3 (5 on ci) Gaussian tasks on 6 uniform inputs: every merge of "
                "consecutive kinks raises the certified objective beyond the gap; on the exceptional example "
                "Y_2 = 2 Y_1 (positively parallel slope changes) a second certified minimizer exists.",
        free_choices={"'almost always'": "for Gaussian labels; the exceptional set read as data whose consecutive "
                                         "slope-change vectors are positively parallel (our derivation: the theorem's "
                                         "own exceptional set is not in the stored copy)",
                      "'unique'": "no second minimizer of merge type (other kinds are not excluded)",
                      "problem": REGULARIZED, "bias regularization": NO_BIAS}),
    # Boursier & Flammarion's setting (penalized biases) is not the paper's: an extension
    "shenouda.penalized_bias_off_data": dict(
        source=f"{BF}, penalized biases; contrasted with {NSN}, abstract", quote=Q_NONUNIQUE, origin="extension",
        reading="Variant 7 (biases penalized), lam = 0.01, the convex single-task example: no kink of the certified "
                "optimum lies within 1e-6 of a data point, so the fit is not the connect-the-dots spline of its "
                "values and the merge construction gives no second minimizer.",
        free_choices={"bias regularization": "penalized (variant 7): our extension, the paper's biases are "
                                             "unregularized"}),
    "shenouda.multitask_ctd": dict(
        source=UNIVARIATE, quote=Q_UNIQUE, origin="reading",
        reading="Variant 8, lam = 1e-4, T = 2, 5, 10 Gaussian tasks (2 draws each) on 8 uniform inputs: the certified "
                "solution is the connect-the-dots (piecewise-linear) interpolant of its own fitted values on "
                "[x_1, x_N] (defect <= 1e-6); the fitted values are within 0.1-0.6 % of the labels.",
        free_choices={"Sobolev space": "H^1([x_1, x_N]), whose minimum-norm interpolant is connect-the-dots (the "
                                       "abstract names no space; H^1 is a third-party summary's identification, "
                                       "sciencestack.ai)",
                      "interpolation": REGULARIZED + " (lam = 1e-4)", "bias regularization": NO_BIAS,
                      "T": "2, 5, 10 (and 20 on ci; T = 1 rows reported, not judged)"}),
    # extension: penalized biases and lam > 0, where the paper states interpolation with unregularized biases
    "shenouda.multitask_ctd_penalized_bias": dict(
        source=f"{BF} (penalized biases); extension of {NSN}, abstract (section 3 of v4)", quote=Q_UNIQUE,
        origin="extension",
        reading="Variant 7, lam = 1e-4, T = 2, 8 inputs in [-1, 1] (CTD7_X, CTD7_Y): the certified lower bound over "
                "every function that is connect-the-dots on [x_1, x_N] exceeds the certified optimum (relative "
                "1.5e-5), so no connect-the-dots function is optimal. Where the optimum's kinks lie is not certified.",
        free_choices={"bias regularization": "penalized (variant 7): our extension",
                      "lam": "1e-4 (the paper: interpolation)", "instance": "one T = 2 draw (pcheck verify --seed 3)"}),
    "shenouda.multivariate_kernel_identity": dict(
        source=MULTIVARIATE, quote=Q_KERNEL, origin="reading",
        reading="For a certified near-optimal network of eq. (4) (2..5 inputs, d_in 1 or 2, 1..4 tasks, lam in "
                "{0.05, 0.2, 1}), kernel ridge regression with the kernel of its neurons (same lam) is no worse in "
                "eq. (4) and its on-data outputs are within the certified distance of the network's; at the optimum "
                "each task's outputs are exactly K (K + lam I)^-1 y_t.",
        free_choices={"'resemble those obtained by solving a kernel method'": "an exact identity on the data: each "
                      "task's optimal outputs are kernel ridge regression with the kernel of the optimal neurons",
                      "bias regularization": BOTH_BIASES, "lam": "0.05, 0.2, 1 (the paper: interpolation)"}),
    "shenouda.multivariate_fixed_kernel": dict(
        source=MULTIVARIATE, quote=Q_FIXED, origin="reading",
        reading="Kernel ridge regression with the neuron kernel K_T of the optimum for T tasks predicts task 0's "
                "outputs in the joint (T + 1)-task optimum with error r_T = ||P - F_0|| / ||y_0 - F_0|| -> 0 as T "
                "grows (rule registered in the proofs note: slope of log r_T <= -0.3 and median r_T + certified bar <= 0.1 "
                "at the largest T, per lam and variant).",
        free_choices={"'approximately equivalent to ... a fixed kernel'": "transfer: the kernel of T tasks predicts a "
                                                                          "new task's joint optimum, r_T -> 0",
                      **MULTIVARIATE_SETTING}),
    # convention: the tested phrase is a third-party summary's, not the paper's, and not a generalization
    # of anything the paper says (the paper's fixed-kernel picture predicts the opposite)
    "shenouda.multivariate_common_scale": dict(
        source=f"{MULTIVARIATE}, nearest sentence; the tested phrase is from the third-party summary at "
               "sciencestack.ai/paper/2410.21696, not from the paper", quote=Q_FIXED, origin="convention",
        reading="The per-task kernel norms p_t = sum_k mu_tk^2 / ||mu_k|| of the joint optimum of T + 1 i.i.d. N(0, 1) "
                "tasks concentrate: std_t(p_t) / mean_t(p_t) -> 0 as T grows (registered rule: slope of log CV "
                "<= -0.3 and median CV <= 0.2 at the largest T). Refuted: the spread sits at the fixed-kernel "
                "Gaussian floor sqrt(2 tr M^2) / tr M.",
        free_choices={"'per-task penalties converging to a common scale'": "read literally as concentration of the "
                      "per-task kernel norms; the reading 'every task is penalized by the same, converging kernel "
                      "weights' is what shenouda.multivariate_fixed_kernel supports",
                      **MULTIVARIATE_SETTING}),
}
