"""Where each Lee & Ndirango entry comes from: the paper's words (verbatim, from the NeurIPS
2019 text; fragments joined by " [...] "), the reading the check tests, its origin and the
free choices (what the paper leaves open -> the values the check tries).

Used as ``@claim(id, statement=..., note=..., expected=..., **SOURCES[id])``.
"""

from __future__ import annotations

PAPER = "Lee & Ndirango, Generalization in multitask deep neural classifiers: a statistical physics approach, NeurIPS 2019"

#: Free choices shared by the four multi-task entries (section 4.5, Figure 2).
MULTITASK_CHOICES = {
    "label noise (section 2.1 fixes a noise matrix xi; the authors' multitask/data.py draws fresh noise per sample)":
        ["fixed xi: labels argmax((W + xi) x), xi_ij ~ N(0, sigma^2/N1)",
         "per-sample: labels argmax(W x + sigma z), z ~ N(0, I) fresh per sample"],
    "student width (hidden units per trunk layer; the paper gives none)":
        [10, 64, 256],
    "metric of M (section 4.4 defines M with the loss; Figure 2 names no unit)":
        ["validation cross-entropy, min over t (the authors' notebook, validation-1/loss)",
         "validation accuracy, max over t"],
    "input dimension N1 (not given; the code's --nfeatures default is 20, the released CSV fits 100)":
        [20, 100],
}

#: What the paper leaves open and the check fixes (stated in every multi-task reading).
MULTITASK_FIXED = (
    "Fixed as the authors: N3 = rank = 10 classes, all singular values of a teacher equal, s_A = 10 (their "
    "Figure 2 right), s_B in {0.01, 10} (their lowest and highest), r_AB in {0, 1}, logit noise sigma = N1^-1/2, "
    "n = 800 training points per task (their Figure 2 left) and n validation points with noise-free labels, a "
    "student with two linear trunk "
    "layers with bias and one head per task (orthogonal init), trained on L_A + L_B by gradient flow to the time "
    "of their 2000 epochs of SGD at lr 1e-3, batch 128; M over 10 seeds (20 on thorough), 95% Student-t "
    "intervals.")

SOURCES = {
    "lee_ndirango.ta_ode": dict(
        source=f"{PAPER}, section 3, eq. (3) (p. 4) and Figure 1 (p. 5)",
        quote=("For a rank one teacher in the TA case [...] equation (2) simpliﬁes further to an equation for "
               "the student’s largest singular value, with all the other singular values exponentially "
               "suppressed in time. [...] Numerically integrating equation (3) yields the graphs shown in "
               "Figure 1. The ﬁgure reveals excellent agreement between theory and experiment over a wide range "
               "of initial conditions. [...] The results shown are for a 2-class and 20-class classiﬁcation task "
               "using 100 training data points"),
        reading=("For a rank-one noisy teacher Sigma_hat = s_hat u v^T, a student W32 W21 in balanced "
                 "training-aligned factors (top singular value s0 on (u, v), the others 0.01) trained by SGD at "
                 "lr 1e-3 for 5000 steps on 100 Gaussian points in N1 = 20 dimensions has its top singular value "
                 "within 5% of eq. (3)'s solution over t/tau in [0, 5] (seed mean of the max relative deviation, "
                 "95% interval below 0.05: holds; above: refuted), for 2 and 20 classes. G is the softmax "
                 "Jacobian averaged over the training inputs (their appendix A:13, not in the text)."),
        origin="paper",
        free_choices={
            "label model of the rank-one noisy teacher (section 2.1 says argmax; eq. 2's teacher term "
            "G(Sigma_hat) Sigma_hat is the force of soft labels; the authors' code adds fresh noise per sample)":
                ["argmax labels of Sigma_hat = rank-one part of W + xi",
                 "soft targets softmax(Sigma_hat x)",
                 "per-sample noise argmax(W x + z), eq. (3) with the population maximum-likelihood s_hat",
                 "per-sample noise, eq. (3) with s_hat fitted to the training set"],
            "number of classes (Figure 1)": [2, 20],
            "initial singular value s0 (Figure 1 starts near 1.0)": [1.0, "0.5 and 2 on thorough"],
            "batch size (not given; the authors' default 128 exceeds the 100 points)":
                ["full batch", "1 on thorough"],
            "teacher scale, noise and N1 (not given)": ["s = 1, sigma = 1, N1 = 20"],
        }),
    "lee_ndirango.benefit_grows": dict(
        source=f"{PAPER}, section 4.5 item 1 (p. 6), Table 1 row (b), Figure 2 caption (p. 7)",
        quote=("Multitask beneﬁt increases with increasing task relatedness and SNR of the auxiliary data. "
               "[...] This demonstrates that multitask beneﬁt is correlated with task relatedness and SNR for "
               "related tasks"),
        reading=("M(r_AB = 1, s_B = 10) - M(r_AB = 0, s_B = 10) > 0 and M(r_AB = 1, s_B = 10) - M(r_AB = 1, "
                 "s_B = 0.01) > 0, each contrast paired by seed, 95% interval above 0: holds; below: refuted. "
                 + MULTITASK_FIXED),
        origin="paper",
        free_choices=MULTITASK_CHOICES),
    "lee_ndirango.unrelated_hurts": dict(
        source=f"{PAPER}, section 4.5 item 2 (p. 6), appendix C.1 eq. (35)",
        quote=("Unrelated, high SNR auxiliary tasks are actually destructive to the learning process of the "
               "main task."),
        reading=("M(r_AB = 0, s_B = 10) < 0: 95% interval below 0 holds, above 0 refutes. " + MULTITASK_FIXED),
        origin="paper",
        free_choices=MULTITASK_CHOICES),
    "lee_ndirango.unrelated_noisy_ignored": dict(
        source=f"{PAPER}, section 4.5 item 2 (p. 7), Table 1 rows (a) and (c)",
        quote="In contrast, unrelated, noisy auxiliary tasks are readily ignored.",
        reading=("|M(r_AB = 0, s_B = 0.01)| <= 0.02 (a tenth of the range -0.04..0.18 of their Figure 2 scale, "
                 "in nats or in accuracy): 95% interval inside [-0.02, 0.02] holds, entirely outside refutes. "
                 + MULTITASK_FIXED),
        origin="paper",
        free_choices=MULTITASK_CHOICES),
    "lee_ndirango.abundant_data": dict(
        source=(f"{PAPER}, section 4.4 (p. 6, with appendix C.1 eq. 37), Table 1 row (d), Figure 2 caption "
                "(p. 7)"),
        quote=("In regimes where labeled training data is abundant, the factor [...] regardless of the "
               "relatedness between tasks (cf. equation C.1:37). [...] When the dataset is very large, "
               "performance nearly reaches its ceiling and the auxiliary data has little effect."),
        reading=("M_{A<-B} -> 0 as the training set grows, for r_AB in {0, 1} (s_B = 10): at the largest n "
                 "(1600 on dev, 3200 on thorough; N1 = 20) every cell's 95% interval inside [-0.02, 0.02] holds; "
                 "a cell entirely outside it whose seed-mean |M| did not decrease from n = 800 refutes; a cell "
                 "still outside but shrinking is open. "
                 + MULTITASK_FIXED),
        origin="paper",
        free_choices={**{k: v for k, v in MULTITASK_CHOICES.items() if not k.startswith("input dimension")},
                      "input dimension N1 (not given)": [20],
                      "main-task singular value s_A (Figure 2 right uses 10; the claim names none)":
                          [10, "0.63 (SNR 2.8) on thorough"]}),
}
