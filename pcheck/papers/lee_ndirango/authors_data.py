"""Summary of the authors' released results (github.com/tyler-nervana/mt-theory, commit
fe3e4d6, ``notebooks/data/rank-10.csv``: rank-10 teachers, 10 classes, the data behind their
Figure 2 and A1), for comparison with our re-runs. Only numbers derived from the file are kept
here, not the file or any of their code.

Each row of the CSV is one run: ``main_train_pts`` (= ``aux_train_pts``), ``relatedness``,
``s_a``, ``s_b``, ``single_task``, ``train_seed`` (0..4) and ``validation-1/loss``, the
task-A validation cross-entropy. As in their notebook, the benefit of a multi-task run is the
single-task value of the same ``(main_train_pts, s_a, train_seed)`` minus its own. Produced by::

    git --git-dir=<mirror of tyler-nervana/mt-theory> show fe3e4d6:notebooks/data/rank-10.csv > rank-10.csv
    python - <<'EOF'
    import csv, collections, numpy as np
    rows = list(csv.DictReader(open("rank-10.csv")))
    key = lambda r: (int(r["main_train_pts"]), float(r["s_a"]), int(r["train_seed"]))
    single = {}
    for r in rows:
        if r["single_task"] == "True":
            single.setdefault(key(r), float(r["validation-1/loss"]))   # first of duplicates
    cells = collections.defaultdict(list)
    for r in rows:
        if r["single_task"] == "False" and float(r["s_a"]) == 10.0:
            cells[key(r)[0], float(r["relatedness"]), float(r["s_b"])].append(
                single[key(r)] - float(r["validation-1/loss"]))
    for k in sorted(cells):
        v = np.array(cells[k]); print(k, v.mean(), v.std(ddof=1) / len(v) ** .5)
    EOF
"""

from __future__ import annotations

#: ``(n_train, r_AB, s_B) -> (mean, standard error)`` of ``M_{A<-B}`` in validation
#: cross-entropy over their 5 ``train_seed`` values, ``s_A = 10`` (the value of their
#: Figure 2, right).
CELLS = {
    (100, 0.0, 0.01): (-0.0094, 0.0119), (100, 1.0, 0.01): (-0.0097, 0.0047),
    (100, 0.0, 10.0): (-0.0110, 0.0071), (100, 1.0, 10.0): (-0.0004, 0.0055),
    (200, 0.0, 0.01): (-0.0259, 0.0197), (200, 1.0, 0.01): (+0.0055, 0.0141),
    (200, 0.0, 10.0): (-0.0429, 0.0157), (200, 1.0, 10.0): (+0.0544, 0.0181),
    (400, 0.0, 0.01): (+0.0041, 0.0162), (400, 1.0, 0.01): (+0.0662, 0.0183),
    (400, 0.0, 10.0): (-0.0425, 0.0151), (400, 1.0, 10.0): (+0.1683, 0.0093),
    (800, 0.0, 0.01): (-0.0058, 0.0068), (800, 1.0, 0.01): (+0.0434, 0.0068),
    (800, 0.0, 10.0): (-0.0252, 0.0065), (800, 1.0, 10.0): (+0.1748, 0.0109),
    (1600, 0.0, 0.01): (+0.0016, 0.0007), (1600, 1.0, 0.01): (+0.0102, 0.0047),
    (1600, 0.0, 10.0): (-0.0004, 0.0017), (1600, 1.0, 10.0): (+0.1142, 0.0074),
    (3200, 0.0, 0.01): (-0.0001, 0.0001), (3200, 1.0, 0.01): (+0.0015, 0.0007),
    (3200, 0.0, 10.0): (-0.0001, 0.0002), (3200, 1.0, 10.0): (+0.0482, 0.0055),
}

#: ``(n_train, s_A) -> mean single-task validation cross-entropy`` over the 5 seeds. At
#: ``s_A = 0.01`` (signal 0.01 against logit noise ``N1^{-1/2}``) it falls below
#: ``ln 10 = 2.303`` at 3200 points: the validation labels are learnable, so they are the
#: noise-free ones (section 2.1; the code's ``--clean_validation``), not its default noisy ones.
BASELINE = {
    (100, 0.01): 2.7117, (100, 10.0): 2.3602, (200, 0.01): 2.6501, (200, 10.0): 2.0155,
    (400, 0.01): 2.5365, (400, 10.0): 1.5291, (800, 0.01): 2.3906, (800, 10.0): 0.9786,
    (1600, 0.01): 2.2430, (1600, 10.0): 0.5755, (3200, 0.01): 2.1513, (3200, 10.0): 0.3314,
}


def cell(n_train: int, r: float, s_B: float) -> tuple[float, float]:
    """``(mean, standard error)`` of their ``M_{A<-B}`` (cross-entropy, ``s_A = 10``), or
    ``(nan, nan)`` where they ran no such cell."""
    return CELLS.get((int(n_train), float(r), float(s_B)), (float("nan"), float("nan")))
