"""The optimization problems of the theory, each with its certificate: the exact penalty
``P_j`` (:mod:`.penalty`), the function-space problem eq. (5) in one input dimension
(:mod:`.function_space`, :mod:`.exchange_1d`, :mod:`.dual_1d`) and beyond (:mod:`.patterns`,
:mod:`.bounds_nd`), width n (:mod:`.width`, :mod:`.minimal_width`), stacked networks
(:mod:`.deep`), random features, Gaussian processes and the neuron kernel."""
