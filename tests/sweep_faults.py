"""Sweep instances for the fault-injection tests of tests/test_sweep.py, in a module of their
own so that dask worker processes import them by name (it imports nothing heavy)."""

import os
from pathlib import Path


def dies_when_armed(instance: dict) -> float:
    """Residual ``x / 100``; while the file ``instance["armed"]`` exists, an instance with
    ``x % 4 == 1`` kills its worker process mid-task (``os._exit``, as a segfault or the OOM
    killer would: no exception, no cleanup)."""
    if instance["x"] % 4 == 1 and Path(instance["armed"]).exists():
        os._exit(13)
    return instance["x"] / 100
