"""The bottom layer: the objects of HTW section 2 and their arithmetic.

Stacks and networks (eq. 1, 2) with their Numba kernels, atoms and kinks (the distributional
second derivative), rescaling, parameter costs (eq. 7, 8, 11, 12 at a representation), the
eq. (4) objective, the penalty :class:`~pcheck.core.variant.Variant`, input validation and
shared tolerances. Imports nothing else of pcheck.
"""
