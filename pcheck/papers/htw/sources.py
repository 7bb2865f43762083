"""Where each ``htw.*`` ledger entry comes from: source, verbatim quote, reading, origin, free choices.

``SOURCES[claim_id]`` holds the keyword arguments ``source``, ``quote``, ``reading``, ``origin``,
``free_choices`` and ``derived_from`` of :func:`pcheck.ledger.claim` (the decorators pass them
as ``**SOURCES[id]``). Quotes are copied verbatim from the seed text of the paper
(``shared/seeds/heiss-teichmann-wutte-multitask-infinite-width.txt``: the arXiv 2112.15577
version titled "Infinite wide (finite depth) neural networks benefit from multi-task learning
unlike shallow Gaussian processes", with its LaTeX as extracted); fragments of one quote are
joined by " [...] ". The seed has no page breaks: the page numbers below come from the
back-references of its reference list (e.g. [2] is cited on p. 5 only, in footnote 7).

Origins: "paper" = the paper states it; "reading" = one formalization of a loose statement (the
others in ``free_choices``); "extension" = a statement of ours about the paper's objects that
the paper does not make (more outputs or variants, an equality condition, a supporting lemma);
"convention" = a statement about a choice of ours (how constants are priced, our solver).
"""

from __future__ import annotations

from pcheck.papers.htw import HTW

# ----------------------------------------------------------------------------- quotes (verbatim)

Q_EQ2 = (r"$$\mathcal{NN}_{\theta_{(j)}}^{j}(x) = \sum_{k=1}^{n_j} w_k^{(j)} \max\left(0, b_k^{(j)} + "
         r"v_k^{(j)} x\right) + c^{(j)} \quad \forall x \in \mathbb{R}^{d_{j-1}},$$")
Q_EQ4 = (r"In this paper we focus on understanding deep stacked ReLU NNs (Definition 2.1) optimized with ℓ_2 "
         r"-regularization (weight decay), i.e.,")
Q_EQ5 = (r"The goal of this section is to formulate $\lim_{n\to\infty} \mathcal{NN}_{\theta^{*\lambda}}$ as the "
         r"solution of an optimization problem of the form")
Q_EQ7 = (r"$$P_{j}(h_{j}) := \min_{\substack{\varphi \in \mathcal{T}, \ c \in \mathbb{R}^{d_{j}} \text{ s.t.} \\ h_{j} "
         r"= \int_{S^{d_{j-1}-1}} \varphi_{s}(\langle s, \rangle) \, ds + c}} \left(\int_{S^{d_{j-1}-1}} "
         r"\int_{\mathbb{R}} \frac{\left\| \varphi_{s}(r)^{" '"' r"} \right\|_{2}}{g(r)} \, dr \, ds + \left\| c "
         r"\right\|_{2}^{2} \right),$$")
Q_ZEROTH = "Equation (7) behaves qualitatively similar, but also the zeroth derivative gets slightly regularized"
Q_FOOTNOTE7 = (r"This results for example in $\int_{\mathbb{R}} \frac{\left\| w_k \max\left(0, \left\langle v_k, "
               r"\frac{v_k}{\|v_k\|_2} r \right\rangle + b_k \right)'' \right\|_2}{g(r)} dr = "
               r"\frac{\|v_k\|_2 \|w_k\|_2}{g\left(\frac{-b_k}{\|v_k\|_2}\right)}.$")
Q_EQ9 = ("In this case [16] provides a simpler reformulation of P_j from eq. (8), i.e. [...] (where the spheres "
         "could also be replaced by halfspheres without changing the functional P_i).")
Q_THM32 = (r"Theorem 3.2. Using the definitions from sections 2 and 3 it holds that for a sufficiently large⁸ "
           r"number of neurons n > N every solution $\mathcal{NN}_{\theta^{*\lambda}}$ to eq. (4) is a solution "
           r"to eq. (5) too, i.e., [...] $^{{}^8}n>N$ is a short notation for "
           r"$\forall j\in\{1,\dots,\#\mathrm{stacks}\}: n_j>N$.")
Q_EQ10 = (r"Further it holds that for every compact $K \subset \mathbb{R}^{d_{in}}, \forall \epsilon \in "
          r"\mathbb{R}_{>0}$: $$(10) \quad \forall f^{*,\lambda} \in \operatorname*{arg\,min}_{f \in "
          r"W^{1}}\left(L\left(f\right) + \lambda P(f)\right) : \exists \tilde{n} \in \mathbb{N}^{\#stacks} : "
          r"\forall n > \tilde{n} :$$ $$\exists \theta^{*,\lambda} \in \operatorname*{arg\,min}_{\theta} "
          r"\left(L\left(\mathcal{NN}_{\theta}\right) + \lambda \left\|\theta\right\|_{2}^{2} \right) : "
          r"\left\| f^{*,\lambda} - \mathcal{NN}_{\theta^{*\lambda}} \right\|_{W^{1,\infty}(K)} < \epsilon$$")
Q_COR33 = (r"Corollary 3.3. Let $\tilde{\sigma}$ be ReLU or linear, let n > N and $d_j > N$, then there exists "
           r"$\theta^{*,\lambda} \in \arg\min_{\theta} \left(L\left(\mathcal{NN}_{\theta} \right) + \lambda "
           r"\|\theta\|_2^2 \right)$ such that the function $\mathcal{NN}_{\theta^{*\lambda}}$ can also be "
           r"represented by a network with $d_j = N+1$ and $\mathcal{NN}_{\theta^{*\lambda}} \in \arg\min_{f \in "
           r"W^1} \left(L\left(f \right) + \lambda P(f) \right)$, where $d_j = N+1$ can be used in the "
           r"definition of P.")
Q_RF = (r"If one samples the first layer weights and biases randomly and only train the second layer, the main "
        r"difference in P is that $\|\cdot\|_2$ would be replaced by $\|\cdot\|_2^2$ and squaring the Euclidean "
        r"norm cancels the square root that connects the outputs to each other. Without the square-root "
        r"learning a separate function f_k for each task would result exactly in the same functions f_k as "
        r"training them all together⁹")
Q_NOT_EQUAL = (r"On the contrary, with the squareroot this is obviously not the case, since $\int \left\| f''(x) "
               r"\right\|_2 dx = \int \sqrt[2]{\sum_{k=1}^{d_{\text{out}}} \left(f_k''(x) \right)^2} dx$ is in "
               r"general not equal to $\sum_{k=1}^{d_{\text{out}}} \int \left| f_k''(x) \right| dx$.")
Q_KINKS = (r"Already for one-dimensional input, the square-root can lead to multi-task learning: If some outputs "
           r"f_k have stronger second derivative $|f_k''(x)|$ or even kinks at some positions x, other outputs "
           r"$f_{\tilde{k}}$ will also prefer to have stronger second derivative or even kinks at these positions x.")
Q_GP = ("Note that for exactly the same NN-architecture the corresponding limits discussed in [12, 14, 17, 24, 13] "
        "result in a GP-regression with absolutely no multi-task learning benefits, where learning the tasks "
        "separately would result in exactly the same functions as learning them together.")
Q_BENEFIT = (r"So one can see that already a single hidden layer is sufficient to get mutli-task learning effects "
             r"for $\lim_{n\to\infty} \mathcal{NN}_{\theta^{*\lambda}}$ when trained with ℓ_2 -regularization. "
             + Q_GP)
Q_NNGP = ("Neal [14] shows that the prior of a very wide BNN is similar to a GP. [...] The GPs considered in "
          "[12, 14, 13] have completely independent outputs.")
Q_APPB = (r"The knowledge that the outputs are periodic is not given to the network a priori and we hope that the "
          r"network with $\#\text{stacks}=3, n\gg N, d_1=d_2=1, \tilde{\sigma}=id, \ell^{-1}=id$ (witht he "
          r"architecture from Figure 6) is able to find a periodic representation H by itself, because this would "
          r"be helpful for all 7 outputs.")
Q_APPB_BENEFIT = "In Appendix B we visualize this multi-task learning benefits on a simple example."

# ----------------------------------------------------------------------------- shared free choices

#: The scale of P in (5): eq. (4) prices a function at 2 x (atom part of eq. 7) + ||c||^2 (rescaling
#: identity); the paper pairs (4) with eq. 7 as printed (htw.penalty.factor2).
SCALE = ("2 x atom part + ||c||^2, the price eq. (4) puts on a function (htw.link_4_5). Not run: eq. 7's scale as "
         "printed (atom part + ||c||^2), under which the minimizers of (4), at any width, and of (5) differ in "
         "general (atoms weigh half as much; proofs notes htw-penalty-factor2, htw-link-4-5), so the statement "
         "fails under that reading too")
#: The same choice for an entry that holds: it holds under our reading of the scale only.
SCALE_HOLDS = ("2 x atom part + ||c||^2 (htw.link_4_5). Under eq. 7's scale as printed the minimizers of (4) and (5) "
               "differ in general at every width (htw.penalty.factor2), so the statement holds under our reading "
               "of the scale only")
BIASES_4 = "penalized, as eq. (4) is written (variant 7)"
PCHECK_P = ("pcheck's exact P_j: footnote 7's lower semicontinuous continuation, a v = 0 neuron priced at "
            "||w|| |b| (proofs note htw-penalty-exact)")
APPB_SETTING = {
    "task family": "f_k = a_k cos(pi m_k tri(x) + phi_k), tri the triangle wave of period P = 1 on [0, 3], 24 "
                   "jittered inputs, task 6 observed at 6 inputs of the first period (ours: the paper says only "
                   "'periodic with the same periodicity')",
    "architecture": "three stacks, d_1 = d_2 = 1, identity sigma and ell^-1, hidden widths 32, 16, 32 for N = 24 "
                    "('n >> N' is out of reach for a seconds-long run)",
    "training": "eq. (4), lam = 1e-3, best of 4 L-BFGS starts x 3000 iterations, 12 starts when the first H is "
                "not P-periodic (the paper: gradient descent for a finite time); local minima, not certified",
    "seeds": "3 consecutive task families from --seed (4 on ci)",
}

SOURCES = {
    "htw.footnote7": dict(
        source=f"{HTW}, footnote 7 (to eq. 7, p. 5)", quote=Q_FOOTNOTE7, origin="paper",
        reading="For one neuron w relu(<v, x> + b) with v != 0, the parameter cost ||w|| ||(v, b)|| and the integral "
                "of ||phi''||_2 / g(r) along the neuron's direction (phi'' smoothed by a Gaussian of width 1e-3, "
                "Richardson-extrapolated) both equal ||v|| ||w|| / g(-b/||v||), to relative 1e-11.",
        free_choices={"phi'' of a kink": "footnote 7's lower semicontinuous continuation, approximated by "
                                         "Gaussian smoothing (widths 1e-3, 2e-3) and Richardson extrapolation",
                      "dimensions": "d_in, d_out in 1..3, v and w entries of magnitude 0.1..4 (Hypothesis)"}),
    "htw.link_4_5": dict(
        source=f"{HTW}, section 3, eq. (4), (5), (7), (8) (pp. 3-5)", quote=Q_EQ5, origin="reading",
        reading="1D data, any d_out: the infimum over all widths of L + lam ||theta||^2 (eq. 4) equals "
                "min_f L(f) + lam (2 x atom part of P_7(f) + ||c||^2) (variant 7; variant 8: 2 x atom part, c free), "
                "is attained by a finite network, and is certified to a relative gap of 1e-9.",
        free_choices={"scale of P in (5)": "2 x atom part + ||c||^2 (the one the rescaling identity gives; eq. 7 as "
                                           "printed, lam P_7, is not the infimum of (4): htw.penalty.factor2)",
                      "price of constants": "v = 0 neurons (2||u||) or ||c||^2, as eq. (4) prices them; eq. 7's "
                                            "decay condition read on all of R would charge ||c||^2 only",
                      "bias regularization": "penalized (7) and unpenalized (8)",
                      "data": "N 1..5 points in [-2, 2], d_out 1..3, Y standard normal (+ 0 or 100), lam in "
                              "{1e-3, 0.1, 1}"}),
    "htw.link_4_5.nd": dict(
        source=f"{HTW}, eq. (4), (5), (7), (8) (pp. 3-5); compared with the convex program of Pilanci & Ergen, "
               "ICML 2020", quote=Q_EQ5, origin="reading",
        reading="d_in in {2, 3}: two independently certified intervals for the infimum over all widths of eq. (4) "
                "meet: the exchange method over unit directions and Pilanci & Ergen's program over activation "
                "patterns (d_out = 1, points uniform in [-2, 2]^d_in), or the exact 1D solver (data on a line, "
                "d_out 1..3).",
        free_choices={"scale of P in (5)": "as in htw.link_4_5 (2 x atom part + ||c||^2)",
                      "bias regularization": "penalized (7) and unpenalized (8)",
                      "data": "N 2..6, d_in 2..3, lam in {1e-3, 0.1, 1}"}),
    "htw.eq10": dict(
        source=f"{HTW}, Theorem 3.2, eq. (10) (p. 6)", quote=Q_EQ10, origin="reading",
        reading="d_in = d_out = 1, N = 4 points, lam = 0.1, variant 7, three data seeds: for n = 4N, 16N (64N on "
                "ci) the best width-n network trained from random angles reaches the certified (5) optimum "
                "(relative excess <= 1e-12) and lies within 1e-6 (relative) of the (5) minimizer f* in "
                "W^{1,inf}(K); open, never refuted, when a wide network misses (local search).",
        free_choices={"K": "the data hull [x_1, x_N]", "epsilon": "1e-6 relative to ||f*||_{W^{1,inf}(K)}",
                      "dimensions": "d_in = d_out = 1 (the paper: any)", "bias regularization": BIASES_4,
                      "scale of P in (5)": SCALE_HOLDS, "uniqueness of f*": "assumed, not certified"}),
    "htw.cor3_3": dict(
        source=f"{HTW}, Corollary 3.3 (p. 6)", quote=Q_COR33, origin="paper",
        reading="f = h_2 o sigma o h_1 on 1D data (N = 3, 4; d_out = 1, 2), sigma ReLU or identity, hidden widths "
                "2N + 2: the best eq. (4) objective over random L-BFGS restarts with bottleneck d_1 = N + 1 is "
                "within 1e-4 (relative) of the best with d_1 = 2N + 2. Local-search evidence: the verdict stays open.",
        free_choices={"#stacks": "2", "sigma": "ReLU and identity", "widths": "n_1 = n_2 = 2N + 2, wider "
                      "bottleneck d_1 = 2N + 2", "bias regularization": BIASES_4,
                      "search": "16 L-BFGS restarts x 3000 iterations"}),
    # derived: with one stack the corollary's conclusion is Theorem 3.2's at width n
    "htw.cor3_3.one_stack": dict(
        source=f"{HTW}, Corollary 3.3 (p. 6), the case #stacks = 1 of Definition 2.1", quote=Q_COR33,
        origin="reading", derived_from=("htw.thm3_2.vector",),
        reading="#stacks = 1, d_in = 1, N = 4, d_out = 5 > N, lam = 0.1, variant 7, width n = N + 1 = 5: certified, "
                "every width-5 network has eq. (4) >= 3.96336059695361 > 3.96334221315931 = min (5), so no "
                "minimizer of (4) at width 5 minimizes (5) (the one-stack case is Theorem 3.2 with d_out > N).",
        free_choices={"range of j in 'd_j > N'": "{1, ..., #stacks} (the paper's next sentence: 'd_j = N+1 for all "
                                                 "j in {1, ..., #stacks}'): d_out = 5 > 4; or bottlenecks only "
                                                 "(vacuous for one stack); the instance satisfies both",
                      "width n": "N + 1 = 5, the smallest n > N", "bias regularization": BIASES_4,
                      "scale of P in (5)": SCALE}),
    "htw.thm3_2.scalar": dict(
        source=f"{HTW}, Theorem 3.2 and footnote 8 (p. 6)", quote=Q_THM32, origin="reading",
        reading="d_in = d_out = 1: on random instances (N 1..5 in [-2, 2], lam in {1e-3, 0.1, 1}) some width-(N + 1) "
                "network reaches the certified (5) optimum within its gap, so every minimizer of (4) at width N + 1 "
                "minimizes (5).",
        free_choices={"d_out": "1 (d_out >= 2: htw.thm3_2.vector)", "width n": "N + 1",
                      "bias regularization": "penalized (7) and unpenalized (8)", "scale of P in (5)": SCALE_HOLDS}),
    "htw.thm3_2.vector": dict(
        source=f"{HTW}, Theorem 3.2 and footnote 8 (p. 6); for context, Shenouda, Parhi, Lee & Nowak, JMLR 2024 "
               "(width bounds up to N^2 for vector outputs)", quote=Q_THM32, origin="paper",
        reading="d_in = 1, d_out = 2, N = 4 (x = 0, 1, 2, 3, integer Y), lam = 0.3, variant 7, width n = N + 1 = 5: "
                "certified, every width-5 network has eq. (4) >= 7.65972692257756 > 7.65969441962388 = min (5), so "
                "no minimizer of (4) at width 5 minimizes (5) (lemma in the proofs note).",
        free_choices={"d_out": "2 (the theorem puts no condition on d_out)",
                      "width n": "N + 1 = 5: footnote 8 makes 'sufficiently large' mean n > N",
                      "bias regularization": BIASES_4 + "; unpenalized biases (eq. 8) are refuted as well by a "
                                             "certificate in the proofs note (d_out 8, N 6), not re-run here",
                      "scale of P in (5)": SCALE}),
    "htw.rescaling.outputs": dict(
        source=f"{HTW}, Definition 2.1, eq. (2) (p. 2); the rescaling property is not stated in the paper",
        quote=Q_EQ2, origin="extension",
        reading="For every stack (skip connections included) and alpha_k in [1e-3, 1e3], (v_k, b_k, w_k) -> "
                "(alpha_k v_k, alpha_k b_k, w_k / alpha_k) leaves h unchanged at 7 test points, to twice the "
                "reordering bound of the condition scale."),
    "htw.rescaling.atoms": dict(
        source=f"{HTW}, eq. (7), (8) and footnote 7 (p. 5); not stated in the paper", quote=Q_FOOTNOTE7,
        origin="extension",
        reading="Rescaling neurons by alpha_k > 0 leaves the Radon-domain atoms (s_k, r_k, m_k) and the parameter "
                "costs R_7, R_8 unchanged (edge cases: zero-mass and dead neurons).",
        free_choices={"variant": "7 and 8"}),
    "htw.rescaling.balanced": dict(
        source=f"{HTW}, eq. (4) (p. 3); the identity behind the passage from (4) to (7), not stated in the paper",
        quote=Q_EQ4, origin="extension",
        reading="min over rescalings of ||theta||^2 = 2 sum_k ||w_k|| ||(v_k, b_k)|| + ||c||^2, reached by "
                "balance(theta) (||w_k|| = ||(v_k, b_k)||); no random rescaling goes below it."),
}

SOURCES.update({
    "htw.penalty.invariance": dict(
        source=f"{HTW}, eq. (7), (8) (pp. 4-5)", quote=Q_EQ7, origin="paper",
        reading="P_j(h_j) is a minimum over all representations of h_j, so a function of h_j: pcheck's certified "
                "P_7 and P_8 (d_in 1 or 2) agree within their intervals on a stack and on its rescaled, permuted, "
                "split and zero-mass-padded twins.",
        free_choices={"variant": "7 and 8", "d_in": "1 and 2", "reading of eq. 7": PCHECK_P}),
    "htw.penalty.upper_bound": dict(
        source=f"{HTW}, eq. (7), (8) and footnote 7 (pp. 4-5); the equality condition is ours", quote=Q_FOOTNOTE7,
        origin="extension",
        reading="Certified lower(P_j(h_theta)) <= R_j(theta) (7: sum ||w_k|| ||(v_k, b_k)|| + ||c||^2; 8: "
                "sum ||w_k|| ||v_k||) for stacks with d_in 1 or 2; and R_7(theta) <= upper(P_7) for 1D stacks with "
                "c = 0, no v = 0 neuron and distinct kinks (condition (E)).",
        free_choices={"variant": "7 and 8 (the equality part: 7)", "reading of eq. 7": PCHECK_P}),
    "htw.penalty.convexity": dict(
        source=f"{HTW}, eq. (5), (7), (8) (pp. 3-5); convexity is not stated in the paper",
        quote=r"$$f^{*,\lambda} \in \arg\min_{f} \left(L\left(f\right) + \lambda P(f) \right)$$", origin="extension",
        reading="Certified P_j(t h1 + (1 - t) h2) <= t P_j(h1) + (1 - t) P_j(h2) for stacks with d_in 1 or 2, "
                "t in {0, 0.25, 0.5, 0.9, 1}, and P_8(a h) = a P_8(h) for a in {0.5, 2, 10}; hence problem (5) "
                "with one stack and the squared loss is convex.",
        free_choices={"variant": "7 and 8", "reading of eq. 7": PCHECK_P}),
    "htw.penalty.coupling": dict(
        source=f"{HTW}, section 4 (p. 7); the equality condition and the P_j-level inequality are ours",
        quote=Q_NOT_EQUAL, origin="extension",
        reading="1D stacks with d_out 2..3: certified P_j(h) <= sum_o P_j(h_o); and int omega ||h''||_2 <= "
                "sum_o int omega |h_o''| (omega = 1/g, eq. 7's weight), equal when no two tasks have curvature at "
                "the same kink, strictly smaller (by at least the kink-sharing measure) when they do.",
        free_choices={"'in general not equal'": "read as: never larger, strictly smaller exactly when two tasks bend "
                                                "at one kink (curvature part); the paper says only 'not equal in "
                                                "general'",
                      "weight of the curvature integral": "eq. 7's 1/g (the paper writes it unweighted; the "
                                                          "comparison is kink by kink, so any positive weight "
                                                          "gives the same result)",
                      "variant": "7 and 8"}),
    "htw.penalty.coupling_equality": dict(
        source=f"{HTW}, section 4 (p. 7), extrapolated by us: the paper says only 'in general not equal'",
        quote=Q_NOT_EQUAL, origin="extension",
        reading="1D stacks with d_out = 2, variant 7: certified P_7(h) = sum_o P_7(h_o) if and only if no two tasks "
                "have curvature at the same kink (refuted both ways: h = (1, 1) and h = (x, x) are strict without a "
                "kink, h = (relu(x), relu(-x)) is equal with a shared kink).",
        free_choices={"variant": "7", "reading of eq. 7": PCHECK_P + "; h = (x, x) does not involve constants"}),
    "htw.penalty.rf_split": dict(
        source=f"{HTW}, section 4 (p. 7)", quote=Q_RF, origin="paper",
        reading="With (V, b) random and frozen and the readout W trained with lam ||W||_F^2 (no output bias), the "
                "joint ridge solution equals the d_out per-task solutions and its optimal value is their sum, to "
                "1e-10 relative.",
        free_choices={"readout bias": "none (htw.sec4.random_features_separable includes it)",
                      "sizes": "N 1..6 inputs in [-2, 2], 1..8 neurons, d_out 2..4, lam in {0.1, 1, 10}"}),
    "htw.penalty.factor2": dict(
        source=f"{HTW}, eq. (4), (5), (7) (pp. 3-5); the factor is not in the paper", quote=Q_EQ5,
        origin="extension",
        reading="For stacks with d_in 1 or 2: inf{||theta||^2 : h_theta = h} = 4 P_7(h/2), attained by the balanced, "
                "doubled optimal representation of h/2, and P_7(h) <= 4 P_7(h/2) <= 2 P_7(h): eq. 7 as printed is "
                "within a factor 2 of, but not equal to, the price eq. (4) puts on h.",
        free_choices={"reading of eq. 7": PCHECK_P, "d_in": "1 and 2"}),
    "htw.penalty.known_values": dict(
        source=f"{HTW}, eq. (7)-(9) (pp. 4-5), (11), (12) (Appendix A); the values are ours", quote=Q_EQ7,
        origin="convention",
        reading="pcheck's certified P_j interval contains the hand-derived value for each of 17 functions: 0, |x|, "
                "x, (3x, 4x), relu(x - 1), the constants 0.3 and (3, 4) (variant 7); x, |x|, relu(x) + 5 (8); "
                "x (9); x through a skip connection (11, 12); x1 + x2, (x1, x2), relu(x1 + x2 - 1) (7, d_in = 2); "
                "x through A = I_2 (12).",
        free_choices={"price of constants": "pcheck's reading (v = 0 neurons at ||w|| |b| plus ||c||^2: ||t||^2 up "
                                            "to ||t|| = 1/2, ||t|| - 1/4 beyond); under eq. 7's decay condition read "
                                            "strictly P_7((3, 4)) would be 9, not 4.75; the other values do not "
                                            "involve constants or are below ||t|| = 1/2",
                      "variant": "7, 8, 9, 11, 12"}),
    # a convention of our own design notes, never stated by the paper (the paper prices no constant)
    "htw.penalty.constant": dict(
        source=f"{HTW}, eq. (7) (pp. 4-5); the tested value is our own former convention, not the paper's",
        quote=Q_ZEROTH, origin="convention",
        reading="t in (0.1, 0.5, 1, 2): pcheck's certified P_7(t) equals the Huber value min(||t||^2, ||t|| - 1/4) "
                "and the claim P_7(t) = ||t||^2 fails at the first t whose certified upper bound is below t^2 "
                "(t = 1: c = 1/2 plus one v = 0 neuron cost 3/4).",
        free_choices={"price of constants": "pcheck's reading (v = 0 neurons) only; under the strict reading "
                                            "(constants from ||c||^2 and far mirrored pairs) P_7(1) = 1 and the "
                                            "value fails first at t = 2 (P_7(2) = 3), worked out in the proofs note, "
                                            "not run"}),
    "htw.penalty.savarese": dict(
        source=f"{HTW}, eq. (8), (9) (p. 5), citing Ongie et al. 2019; in 1D Savarese et al. 2019, Theorem 3.1",
        quote=Q_EQ9, origin="paper",
        reading="d_in = d_out = 1: pcheck's certified P_8 contains max(sum_p |J_p|, |2L + sum_p J_p|) = "
                "max(int |f''|, |f'(-inf) + f'(+inf)|), eq. (9) in one dimension.",
        free_choices={"T in eq. (8)": "either definition the paper offers (equivalent: c is free in eq. 8)",
                      "sphere or half-sphere in eq. (9)": "either (in 1D the max-functional is a seminorm, so "
                                                          "splitting over s = +-1 cannot lower it)"}),
    "htw.penalty.eq9_vector": dict(
        source=f"{HTW}, eq. (8), (9) (p. 5), citing Ongie et al. 2019", quote=Q_EQ9, origin="paper",
        reading="h(x) = (relu(x), x) (d_in = 1, d_out = 2): certified P_8(h) = 1 + sqrt 2 > sqrt 5 = P_9(h), so "
                "eq. (9) does not reformulate eq. (8) for vector outputs.",
        free_choices={"d_out": "2 (eq. 9 is stated for h_j with values in R^{d_j}, any d_j)",
                      "T in eq. (8)": "either definition (equivalent: c is free in eq. 8)",
                      "sphere or half-sphere in eq. (9)": "either: P_9 = sqrt 5 in both (seminorm)"}),
})

SOURCES.update({
    "htw.sec4.random_features_separable": dict(
        source=f"{HTW}, section 4 (p. 7)", quote=Q_RF, origin="paper",
        reading="(V, b) frozen (0..10 neurons), readout (W, c) fitted by weight decay to all tasks jointly equals "
                "each task's readout fitted alone, to the reordering bound of the solve's condition scale "
                "(N 1..8, d_in 1..2, d_out 1..4, lam in {0} U [1e-6, 1e3]).",
        free_choices={"observation pattern": "all labels observed, or a random mask (tasks seen at different "
                                             "inputs: beyond the paper's setting)",
                      "lam": "0 (minimum norm) and [1e-6, 1e3]"}),
    "htw.sec4.random_features_certified": dict(
        source=f"{HTW}, section 4 (p. 7) and eq. (4) with (V, b) frozen: a check of pcheck's solver used by "
               "htw.sec4.random_features_separable", quote=Q_RF, origin="convention",
        reading="fit_random_features returns the minimizer of eq. (4) over (W, c) with (V, b) frozen: the ridge dual "
                "bound is within 1e-9 relative plus the rounding error of evaluating the certificate."),
    "htw.sec4.gp_separable": dict(
        source=f"{HTW}, section 4 (p. 7) and footnote 1", quote=Q_GP, origin="paper",
        reading="The posterior mean of the multi-output NNGP with independent outputs (depth 0..3, noise variance "
                "1e-4..10, N 1..8, d_in 1..2, d_out 1..4) fitted jointly equals the per-task posterior means, to "
                "4 n eps cond(G).",
        free_choices={"GP": "pcheck's NNGP kernel (ReLU arc-cosine recursion) with independent outputs, as "
                            "footnote 1 says of the GPs of [12, 14, 13]",
                      "observation pattern": "all observed or a random mask"}),
    "htw.sec4.nngp_kernel": dict(
        source=f"{HTW}, section 2.1 (p. 4) and footnote 1, citing Neal 1996 and Lee et al. 2018 (arXiv 1711.00165, "
               "eq. 4)", quote=Q_NNGP, origin="paper",
        reading="Random ReLU networks (depth 1..3, widths 32 and 128, Richardson in 1/width for depth >= 2) have "
                "output covariance within 5 standard errors of the arc-cosine recursion kernel, and two outputs "
                "are uncorrelated.",
        free_choices={"prior": "weights N(0, 2 / fan-in), biases N(0, 0.1) (the paper gives none)",
                      "Monte Carlo": "200 networks (dev), 400 (ci), 2000 (thorough)"}),
    "htw.sec4.joint_vs_separate": dict(
        source=f"{HTW}, section 4 (p. 7); the exact criterion is ours", quote=Q_NOT_EQUAL, origin="extension",
        reading="Problem (5), one stack, d_in = 1 (3..6 inputs, d_out 2..3, lam in {0.05, 0.2, 1}): the certified "
                "joint optimum is at most the sum of the per-task optima, equal exactly when the stacked per-task "
                "duals satisfy the joint dual constraint, strictly below otherwise.",
        free_choices={"variant": "7 and 8", "scale of P in (5)": "as in htw.link_4_5"}),
    "htw.sec4.kink_alignment": dict(
        source=f"{HTW}, section 4 (p. 7)", quote=Q_KINKS, origin="reading",
        reading="3 related tasks (sums of |x - p| with shared kinks, 16 noisy points), lam = 0.1, variant 7, 3 "
                "seeds: in the certified joint fit of (5) all of each task's curvature sits at kinks shared with "
                "another task (alignment 1), and the separate fits share less.",
        free_choices={"'prefer to have kinks at these positions'": "read as: all curvature at shared kinks jointly, "
                                                                   "less sharing separately (the weaker reading, "
                                                                   "'more sharing than separately', is implied)",
                      "task family": "ours, related through shared kink positions (rho = 1)",
                      "variant": "7", "lam": "0.1"}),
    "htw.sec4.multitask_benefit": dict(
        source=f"{HTW}, section 4 (p. 7)", quote=Q_BENEFIT, origin="reading",
        reading="4 related tasks (shared kinks) on 16 shared inputs, task 0 data-poor through label noise 0.3 "
                "(others 0.05), lam = 0.3: task 0's held-out RMS error is lower fitted jointly than alone for the "
                "certified function-space solution (variant 7), and joint / alone = 1 to 1e-9 for random features "
                "and the NNGP; 3 seeds (5 on ci).",
        free_choices={"benefit": "held-out RMS error of the data-poor task, joint < alone at relatedness 1",
                      "data-poor": "through label noise, not fewer points (the function-space solver has no mask)",
                      "task family": "ours (sums of |x - p|, relatedness 0 and 1)",
                      "lam": "0.3 for all models (GP: noise variance 0.3)", "variant": "7"}),
    "htw.appendix_b.periodic": dict(
        source=f"{HTW}, Appendix B (and Figure 6)", quote=Q_APPB, origin="reading",
        reading="In the setting below, the learned H = h_2 o h_1 of the best network found has periodicity defect "
                "||H(x + p) - H(x)|| / ||H - mean H|| <= 0.25 at p = P or p = 2P, on every seed run.",
        free_choices={"'a periodic representation'": "period P or 2P (period P itself: "
                                                     "htw.appendix_b.period_is_task_period)",
                      **APPB_SETTING, "threshold": "defect 0.25 (a monotone H has about 1.7)"}),
    # the paper hopes for "a periodic representation"; that its period is the tasks' own is our sharpening
    "htw.appendix_b.period_is_task_period": dict(
        source=f"{HTW}, Appendix B; the paper does not name the period of H", quote=Q_APPB, origin="extension",
        reading="In the setting of htw.appendix_b.periodic, with seed 2 always included: the H of the best network "
                "found has the tasks' period P itself (defect at P <= 0.25). Seed 2 has a local minimum whose H has "
                "period 2P (h_3 folds once more); the wider search finds a lower objective with period P.",
        free_choices=APPB_SETTING),
    "htw.appendix_b.benefit": dict(
        source=f"{HTW}, section 4 (p. 8) and Appendix B", quote=Q_APPB_BENEFIT, origin="reading",
        reading="In the setting of htw.appendix_b.periodic (seed --seed): the held-out RMS error of the data-poor "
                "task (data in the first period only) trained jointly with the 6 other tasks is at most 0.5 x its "
                "error trained alone with the same architecture.",
        free_choices={"benefit": "held-out RMS joint / alone <= 0.5 on [0, 3]", **APPB_SETTING}),
    "htw.thm3_2.minimal_width": dict(
        source=f"{HTW}, Theorem 3.2 and footnote 8 (p. 6); the minimal width is ours", quote=Q_THM32,
        origin="extension", derived_from=("htw.thm3_2.vector",),
        reading="On random 1D instances (X = sort U(-2, 2, N), Y = N(0, 1)), the certified interval [lower, upper] "
                "for the smallest width n* at which (4) reaches the certified (5) optimum: upper from an explicit "
                "network within the certified gap, lower from the width branch and bound; the claim checked is "
                "n* <= the counting bound of the proofs note.",
        free_choices={"width": "n* = smallest n with min_width-n (4) = min (5) (the theorem's conclusion at "
                               "width n, by the lemma of htw-thm3_2.md)",
                      "bias regularization": "penalized (7) and unpenalized (8)", "scale of P in (5)": SCALE,
                      "lower end": "width branch and bound with a budget of restricted solves per instance; "
                                   "an interval when it does not separate"}),
    "htw.thm3_2.width_law": dict(
        source=f"{HTW}, Theorem 3.2 and footnote 8 (p. 6); the bound is ours (cf. Shenouda, Parhi, Lee & Nowak, "
               "JMLR 2024: N^2 with unregularized biases)", quote=Q_THM32, origin="extension",
        derived_from=("htw.thm3_2.vector",),
        reading="d_in = 1, N distinct points: a network of width min(N d_out, 2N - 1) (variant 7) or "
                "min((N - 1) d_out, 2N - 3) (variant 8) attains the certified (5) optimum within its gap, so every "
                "minimizer of (4) at that width minimizes (5); checked on random instances (N 1..6, d_out 1..6).",
        free_choices={"width": "the counting bound (rank of the tight atoms' data vectors; at most one tight atom "
                               "per activation arc, variant 7, or the kinks at data points, variant 8)",
                      "bias regularization": "penalized (7) and unpenalized (8)", "scale of P in (5)": SCALE}),
})
