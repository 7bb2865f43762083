"""The top layer: the ``pcheck`` command (:mod:`.cli`), reports (:mod:`.report`), the pytest
plugin (:mod:`.plugin`) and the figures (:mod:`.plots`)."""
