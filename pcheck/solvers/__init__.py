"""Numerical solvers wrapped once: the conic solver (Clarabel, :mod:`.conic`), L-BFGS through
scipy (:mod:`.lbfgs`) and the plain-cvxpy oracles the tests compare against (:mod:`.oracles`)."""
