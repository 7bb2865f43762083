"""Heiss, Teichmann & Wutte, "How infinitely wide neural networks can benefit from
multi-task learning" (arXiv 2112.15577): its experiments and its ledger entries.

One module per claim-id prefix (``htw.penalty.*`` in :mod:`pcheck.papers.htw.penalty`, ...);
the experiments the checks run live beside them (:mod:`.multitask`, :mod:`.periodic_tasks`).
"""

HTW = "Heiss, Teichmann & Wutte, arXiv 2112.15577"
