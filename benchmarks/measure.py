"""One measurement per process: ``python benchmarks/measure.py '<json spec>'`` prints JSON.

A fresh process per (workload, implementation) makes the peak memory comparable across
numpy, numba and PyTorch: the resident-set high-water mark (Linux ``VmHWM``, what
``getrusage`` reports as ``ru_maxrss``) sees every allocator. Inputs are built and the
implementation warmed up first; then the high-water mark is reset (``/proc/self/clear_refs``)
and the peak of the timed calls is ``VmHWM`` after them minus ``VmRSS`` before them. For
numpy the ``tracemalloc`` peak of one extra, untimed call is reported too, as a cross-check.

Workloads (spec ``kind``):

* ``peak``: BLAS ``C = A @ B`` on square float64 matrices, ``2 m^3`` FLOPs; the
  machine's attainable peak in this run.
* ``forward``: a stack (n, d_in, d_out) at B samples, ``2 n B (d_in + d_out)`` FLOPs
  (the two matrix products; bias and ReLU not counted). Implementations: ``pcheck``
  (``Stack.__call__``, the numba kernel), ``numpy`` (dense, in place:
  ``Z = X @ V.T; Z += b; relu in place; Z @ W.T + c``, one ``(B, n)`` matrix),
  ``torch`` (the same in PyTorch on the CPU, float64, its default threads).
* ``eval1d``: a ``d_in = 1`` stack at B points. ``pcheck`` is ``evaluate_1d`` (sort,
  prefix sums, binary search, all included); the dense ones (``pcheck-dense``, the
  numba kernel; ``numpy`` and ``torch``, dense in chunks of ``CHUNK`` points) are timed
  on the first ``subset`` points and scaled by ``B / subset``: their cost is exactly
  linear in B (every point costs the same n-neuron pass).
"""

from __future__ import annotations

import gc
import json
import re
import sys
import time
import tracemalloc

import numpy as np

#: points per chunk of the dense 1D peers: a (CHUNK, n) block of 51 MB at n = 1e5
CHUNK = 64


def proc_status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


def reset_peak_rss() -> int:
    """Reset the high-water mark to the current resident set; return the current size."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return proc_status_bytes("VmRSS")


def stack_arrays(n, d_in, d_out, seed=0):
    import pcheck

    return pcheck.Stack.random(n, d_in, d_out, rng=seed)


def forward_impl(impl, s):
    if impl == "pcheck":
        return s
    if impl == "numpy":
        VT, WT = np.ascontiguousarray(s.V.T), np.ascontiguousarray(s.W.T)

        def numpy_forward(X):
            Z = X @ VT
            Z += s.b
            np.maximum(Z, 0.0, out=Z)
            return Z @ WT + s.c
        return numpy_forward
    if impl == "torch":
        import torch

        VT, b, WT, c = (torch.tensor(np.ascontiguousarray(a)) for a in (s.V.T, s.b, s.W.T, s.c))

        def torch_forward(X):
            with torch.no_grad():
                Z = torch.from_numpy(X) @ VT
                Z += b
                Z.relu_()
                return (Z @ WT + c).numpy()
        return torch_forward
    raise ValueError(impl)


def dense_1d_impl(impl, s):
    if impl == "pcheck-dense":
        from pcheck.core import kernels

        def kernel_forward(x):
            outT = np.repeat(s.c[:, None], len(x), axis=1)
            kernels.stack_forward_T(s.V, s.b, s.W, np.ascontiguousarray(x[None, :]), outT)
            return outT.T
        return kernel_forward
    if impl == "numpy":
        v, WT = s.V[:, 0], np.ascontiguousarray(s.W.T)

        def numpy_forward(x):
            out = np.empty((len(x), s.d_out))
            for i in range(0, len(x), CHUNK):
                Z = np.multiply.outer(x[i:i + CHUNK], v)
                Z += s.b
                np.maximum(Z, 0.0, out=Z)
                out[i:i + CHUNK] = Z @ WT + s.c
            return out
        return numpy_forward
    if impl == "torch":
        import torch

        v, b, WT, c = (torch.tensor(np.ascontiguousarray(a)) for a in (s.V[:, 0], s.b, s.W.T, s.c))

        def torch_forward(x):
            out = torch.empty((len(x), s.d_out), dtype=torch.float64)
            xt = torch.from_numpy(x)
            with torch.no_grad():
                for i in range(0, len(x), CHUNK):
                    Z = torch.outer(xt[i:i + CHUNK], v)
                    Z += b
                    Z.relu_()
                    out[i:i + CHUNK] = Z @ WT + c
            return out.numpy()
        return torch_forward
    raise ValueError(impl)


def timed(f, arg, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(arg)
        times.append(time.perf_counter() - t0)
    return times


def measure(spec: dict) -> dict:
    kind, impl, repeats = spec["kind"], spec.get("impl"), spec.get("repeats", 3)
    rng = np.random.default_rng(1)
    scale = 1.0
    if kind == "peak":
        m = spec["m"]
        A, B = rng.standard_normal((m, m)), rng.standard_normal((m, m))
        f, arg, flops = (lambda a: a @ B), A, 2.0 * m**3
    elif kind == "forward":
        s = stack_arrays(spec["n"], spec["d_in"], spec["d_out"])
        f, arg = forward_impl(impl, s), rng.standard_normal((spec["B"], spec["d_in"]))
        flops = 2.0 * spec["n"] * spec["B"] * (spec["d_in"] + spec["d_out"])
    elif kind == "eval1d":
        s = stack_arrays(spec["n"], 1, spec["d_out"])
        x = rng.standard_normal(spec["B"])
        flops = 2.0 * spec["n"] * spec["B"] * (1 + spec["d_out"])  # of the dense evaluation
        if impl == "pcheck":
            from pcheck.core.network import evaluate_1d
            f, arg = (lambda xx: evaluate_1d(s, xx)), x
        else:
            subset = min(spec["subset"], spec["B"])
            f, arg, scale = dense_1d_impl(impl, s), x[:subset], spec["B"] / subset
    else:
        raise ValueError(kind)
    f(arg[:64])  # compile / load caches / spin up thread pools
    gc.collect()
    before = reset_peak_rss()
    times = timed(f, arg, repeats)
    result = dict(spec, times=[t * scale for t in times], best=min(times) * scale, flops=flops,
                  peak_bytes=proc_status_bytes("VmHWM") - before, scaled_by=scale)
    if impl == "numpy":
        tracemalloc.start()
        f(arg)
        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
