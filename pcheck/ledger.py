"""The claims ledger: every checked statement of the seed papers, with its check.

A claim is a statement from a source (paper, equation or theorem), an expected verdict
("holds", "refuted" or "open"), a proofs note and a check: a function
``check(ctx) -> Evidence`` over a Hypothesis strategy (see :func:`property_check`) or an
explicit list of instances (see :func:`instance_check`). Register one with::

    @pcheck.claim("mypaper.lemma2", statement="...", source="My paper, Lemma 2",
                  note="notes/lemma2.md")
    def check(ctx):
        return pcheck.property_check(ctx, my_strategy(), my_property, measure="relative error")

The claim id reaches the check through ``ctx.claim_id`` (set by :func:`run_claim`), so the
reproduce command of a counterexample names it without repeating it. A third-party note is
a path relative to the package of the module that registers the claim, checked when the
claim registers; pcheck's own notes are file names in ``proofs_notes/``.

Third-party packages register their modules through the ``pcheck.claims`` entry point
group; :func:`load_claims` imports the built-in claims and every such module. With only
an id (``@pcheck.claim("mypaper.lemma2")``) the same decorator marks a pytest test as
checking that ledger entry (the ``pcheck_claim`` marker, see :mod:`pcheck.harness.plugin`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

#: A check's verdicts. "depends": the claim holds under some declared reading or free choice
#: and fails under another (see :func:`by_choice`); "skipped": the check needs an optional
#: dependency that is not installed (never a verdict about the theory).
VERDICTS = ("holds", "refuted", "open", "depends", "skipped")

#: Where an entry's statement comes from: "paper" (the source states it), "reading" (one
#: formalization of an ambiguous statement; the others are listed in ``free_choices``),
#: "extension" (our generalization of a source's statement), "convention" (a choice of ours).
ORIGINS = ("paper", "reading", "extension", "convention")

#: Optional dependencies a check may import, with the extra that installs them.
EXTRAS = {"matplotlib": "plot", "dask": "sweep", "distributed": "sweep", "torch": "bench"}

#: Hypothesis examples per property for each profile; ``nojit`` is the reduced
#: profile of the ``NUMBA_DISABLE_JIT=1`` CI pass.
PROFILE_EXAMPLES = {"nojit": 5, "dev": 20, "ci": 50, "thorough": 300}


@dataclass
class Evidence:
    """What a check found.

    ``residual`` is the worst value of the quantity named by ``measure`` (a relative
    error, a certified gap, a margin); ``counterexample`` is the shrunk failing instance
    as text and ``reproduce`` a one-line command that re-runs it; ``details`` holds
    JSON-serializable numbers; ``figures`` the paths of files written; ``choices`` the
    verdict under each declared reading or free choice (rows ``{"choice": {...},
    "verdict": str, "residual": float, "measure": str}``, see :func:`by_choice`).
    """

    verdict: str
    examples: int
    residual: float
    measure: str
    counterexample: str | None = None
    reproduce: str | None = None
    details: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    choices: list = field(default_factory=list)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


class Refuted(AssertionError):
    """An ``AssertionError`` that carries the failing example's residual: raise
    ``Refuted(message, residual=r)`` in a property and the evidence records ``r`` (a plain
    ``AssertionError`` records NaN: the residual of the failing example is unknown)."""

    def __init__(self, message: str = "", *, residual: float = math.nan):
        super().__init__(message)
        self.residual = residual


@dataclass(frozen=True)
class Claim:
    """One ledger entry.

    ``source`` names where the statement is (paper, section, equation, page); ``quote`` is
    the source's own words there, verbatim; ``reading`` the formal statement the check
    tests; ``origin`` one of :data:`ORIGINS`; ``free_choices`` what the source leaves open,
    each with the values the check tries; ``derived_from`` the ids of the entries this one
    follows from (a derived entry is evidence for them, not a finding of its own);
    ``note`` the proofs note as registered (a file name in ``proofs_notes/`` for pcheck's own
    claims, a path relative to the registering package for a third party's) and
    ``note_path`` that file's absolute path.
    """

    id: str
    statement: str
    source: str
    expected: str
    note: str
    variants: tuple
    check: Callable
    quote: str = ""
    reading: str = ""
    origin: str = "paper"
    free_choices: dict = field(default_factory=dict)
    derived_from: tuple = ()
    note_path: str = ""


@dataclass
class Context:
    """What a check may use: the profile, a seed, an example budget and where to write figures.

    ``claim_id`` is the ledger entry being checked (set by :func:`run_claim` and by the pytest
    plugin's ``pcheck_context`` for a test marked with it); ``reproduce``, when set, is the
    command that re-runs the check (the plugin sets ``pytest '<node id>'``), else a
    counterexample's reproduce command is ``pcheck verify --claims <claim_id> ...``.
    """

    profile: str = "dev"
    seed: int = 0
    report_dir: Path | None = None
    recorded: list = field(default_factory=list, repr=False, compare=False)
    claim_id: str | None = None
    reproduce: str | None = None

    def __post_init__(self):
        if self.profile not in PROFILE_EXAMPLES:
            raise ValueError(f"profile must be one of {sorted(PROFILE_EXAMPLES)}, got {self.profile!r}")

    @property
    def examples(self) -> int:
        """Hypothesis examples per property under this profile."""
        return PROFILE_EXAMPLES[self.profile]

    def record(self, evidence: Evidence) -> Evidence:
        """Keep ``evidence`` in ``recorded`` (the pytest plugin reports it) and return it."""
        self.recorded.append(evidence)
        return evidence

    def rng(self, stream: int = 0):
        """A ``numpy.random.Generator`` determined by ``(seed, stream)``."""
        import numpy as np  # not at module level: the pytest plugin imports this module in every session

        return np.random.default_rng([self.seed, stream])

    def pick(self, *, dev, ci=None, thorough=None, nojit=None):
        """A size chosen by profile (``ci`` defaults to ``dev``, ``thorough`` to ``ci``,
        ``nojit`` to ``dev``)."""
        ci = dev if ci is None else ci
        choice = {"dev": dev, "ci": ci, "thorough": ci if thorough is None else thorough,
                  "nojit": dev if nojit is None else nojit}
        return choice[self.profile]


REGISTRY: dict[str, Claim] = {}


def claim(id: str, *, statement: str | None = None, source: str | None = None, note: str | None = None,
          expected: str | None = None, variants=(), quote: str = "", reading: str = "", origin: str = "paper",
          free_choices: dict | None = None, derived_from=()):
    """Decorator with two uses.

    With ``statement``, ``source`` and ``note``: register ``check(ctx) -> Evidence`` as the
    ledger entry ``id`` (``expected`` defaults to "holds"; ``note`` is the proofs note: for a
    third party's claim a path relative to the package of the module that registers it,
    which must exist (a ``ValueError`` otherwise), for pcheck's own a file name in
    ``proofs_notes/``, see :func:`resolve_note`; ``variants`` names the conventions covered, e.g. ``("7", "8")``;
    ``quote``, ``reading``, ``origin``, ``free_choices``, ``derived_from`` as in
    :class:`Claim`: an entry of origin "paper" or "reading" needs the source's words).

    With only ``id`` (and optionally ``expected``): the pytest marker
    ``pytest.mark.pcheck_claim(id)`` that links a test to the ledger entry; under
    ``pytest --pcheck-report DIR`` the test's outcome becomes that claim's verdict.
    """
    if not isinstance(id, str) or not id:
        raise TypeError(f"id must be a non-empty string, got {id!r}")
    if expected is not None and expected not in VERDICTS:
        raise ValueError(f"expected must be one of {VERDICTS}, got {expected!r}")
    given = {"statement": statement, "source": source, "note": note}
    if all(v is None for v in given.values()) and not variants:
        import pytest

        return pytest.mark.pcheck_claim(id) if expected is None else pytest.mark.pcheck_claim(id, expected=expected)
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise TypeError(f"claim {id!r}: registering a check needs statement, source and note; missing {missing}")
    expected = expected or "holds"
    if origin not in ORIGINS:
        raise ValueError(f"claim {id!r}: origin must be one of {ORIGINS}, got {origin!r}")

    def register(check: Callable) -> Callable:
        if id in REGISTRY and REGISTRY[id].check.__qualname__ != check.__qualname__:
            raise ValueError(f"claim id {id!r} is registered twice")
        note_path = resolve_note(id, note, getattr(check, "__module__", None))
        REGISTRY[id] = Claim(id, statement, source, expected, note, tuple(variants), check, quote, reading, origin,
                             dict(free_choices or {}), tuple(derived_from), str(note_path))
        return check

    return register


def resolve_note(claim_id: str, note: str, module: str | None) -> Path:
    """The absolute path of a claim's proofs note. pcheck's own claims (modules under
    ``pcheck.``) name a file in ``proofs_notes/`` (checked only where that directory exists:
    a source checkout; ``tests/test_report.py`` checks every note); any other module's note is
    a path relative to its package directory (the directory of the module's file; the
    working directory for a module without a file) and must exist."""
    if (module or "").split(".")[0] == "pcheck":
        path = notes_dir() / note
        if notes_dir().is_dir() and not path.is_file():
            raise ValueError(f"claim {claim_id!r}: note {note!r} is not in {notes_dir()}")
        return path
    file = getattr(sys.modules.get(module or ""), "__file__", None)
    base = Path(file).resolve().parent if file else Path.cwd()
    path = (base / note).resolve()
    if not path.is_file():
        raise ValueError(f"claim {claim_id!r}: note {note!r} not found: no file {path} (the note is a path "
                         f"relative to the package of {module or 'the registering module'})")
    return path


#: Entry-point group through which packages register claim modules; pcheck's own papers
#: (``pcheck.papers.*``) register through it too (setup.cfg), so this module never names them.
ENTRY_POINT_GROUP = "pcheck.claims"


def load_claims(errors: dict | None = None) -> dict[str, Claim]:
    """Import every module of the ``pcheck.claims`` entry points (pcheck's papers and any
    third-party package's).

    A module that fails to import raises, or, when ``errors`` is a dict, is recorded there
    as ``{module: "ExcType: message"}`` and skipped.
    """
    loaders = [(ep.value, ep.load) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for name, load in loaders:
        try:
            load()
        except Exception as exc:
            if errors is None:
                raise
            errors[name] = f"{type(exc).__name__}: {exc}"
    return REGISTRY


def select(pattern: str | None = None, errors: dict | None = None) -> list[Claim]:
    """Registered claims whose id matches the glob ``pattern`` (all when None), sorted by
    id; ``errors`` as in :func:`load_claims`."""
    claims = load_claims(errors).values()
    return sorted((c for c in claims if pattern is None or fnmatch.fnmatch(c.id, pattern)), key=lambda c: c.id)


@dataclass
class Outcome:
    """A claim's run: the evidence (or the error raised), the time and whether it matched."""

    claim: Claim
    evidence: Evidence | None
    seconds: float
    error: str | None = None

    @property
    def verdict(self) -> str:
        return "error" if self.evidence is None else self.evidence.verdict

    @property
    def as_expected(self) -> bool:
        """The verdict is the expected one; a skipped check (missing optional dependency) never differs."""
        return self.verdict in (self.claim.expected, "skipped")


def run_claim(c: Claim, ctx: Context) -> Outcome:
    """Run one claim's check with ``ctx.claim_id`` set to its id, turning an exception into
    an ``error`` outcome; a refuted verdict without a reproduce command gets the
    ``pcheck verify`` line of this claim."""
    start = time.perf_counter()
    ctx = dataclasses.replace(ctx, claim_id=c.id)  # the same recorded list: records still reach the caller
    try:
        evidence = c.check(ctx)
        if not isinstance(evidence, Evidence):
            raise TypeError(f"check of {c.id} returned {type(evidence).__name__}, not Evidence")
        check_choices(c, evidence)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            return Outcome(c, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
        reason = f"needs {exc.name}: pip install 'pcheck[{extra}]'"
        return Outcome(c, Evidence("skipped", 0, math.nan, reason), time.perf_counter() - start)
    except Exception as exc:  # a broken check is reported, never hidden
        return Outcome(c, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    if evidence.verdict == "refuted" and not evidence.reproduce:
        evidence.reproduce = reproduce_command(ctx)
    return Outcome(c, evidence, time.perf_counter() - start)


def check_choices(c: Claim, evidence: Evidence) -> None:
    """Refuse a "refuted" verdict on a source's own claim (origin "paper" or "reading") while
    a declared reading or free choice makes it hold (a claim is refuted only
    when the counterexample stands under every declared reading and choice)."""
    if evidence.verdict != "refuted" or c.origin not in ("paper", "reading"):
        return
    standing = [row for row in evidence.choices if row["verdict"] != "refuted"]
    if standing:
        raise ValueError(f"{c.id} is refuted under some choices but {standing[0]['verdict']} under "
                         f"{standing[0]['choice']}: its verdict must be 'depends'")


def by_choice(rows: list, measure: str, *, counterexample: str | None = None, details: dict | None = None) -> Evidence:
    """One verdict from the verdicts under each declared reading or free choice.

    ``rows`` are ``(choice, evidence)`` pairs, ``choice`` a dict naming the reading and the
    values of the free choices. The verdict is "refuted" only when every row refutes,
    "holds" when every row holds, "open" when no row refutes and some row is open, else
    "depends"; the rows go to ``Evidence.choices`` (the report prints them as a table) and
    the residual is the worst row's.
    """
    if not rows:
        raise ValueError("by_choice needs at least one (choice, evidence) row")
    table = [{"choice": dict(choice), "verdict": ev.verdict, "residual": float(ev.residual), "measure": ev.measure}
             for choice, ev in rows]
    verdicts = {row["verdict"] for row in table}
    if verdicts == {"refuted"}:
        verdict = "refuted"
    elif verdicts == {"holds"}:
        verdict = "holds"
    elif "refuted" not in verdicts and "open" in verdicts and "depends" not in verdicts:
        verdict = "open"
    else:
        verdict = "depends"
    refuting = [ev for _, ev in rows if ev.verdict == "refuted"]
    shown = counterexample or (refuting[0].counterexample if refuting else None)
    finite = [row["residual"] for row in table if not math.isnan(row["residual"])]
    return Evidence(verdict, sum(ev.examples for _, ev in rows), max(finite, default=math.nan), measure,
                    counterexample=shown, reproduce=refuting[0].reproduce if refuting else None,
                    details=dict(details or {}), figures=[f for _, ev in rows for f in ev.figures], choices=table)


def property_check(ctx: Context, strategy, prop: Callable, *, measure: str, examples: int | None = None) -> Evidence:
    """Check ``prop`` on examples drawn from ``strategy`` with Hypothesis.

    ``prop(example)`` returns the residual of the example (a float, the quantity named by
    ``measure``) and raises ``AssertionError`` when the example refutes the claim (raise
    :class:`Refuted` with ``residual=`` to record the failing example's residual). The
    verdict is "holds" when no example fails, with the worst (largest) residual, else
    "refuted" with the shrunk counterexample as a runnable snippet
    (:func:`counterexample_snippet`) and that example's own residual (NaN when the
    ``AssertionError`` carries none). ``examples`` counts the examples generated (up to and
    including the first failing one), not the shrink steps. Hypothesis replays the minimal
    failing example last, so the last failure seen is the shrunk one.
    """
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    seen = {"generated": 0, "failure": None, "residuals": []}

    @hseed(ctx.seed)
    @settings(max_examples=examples or ctx.examples, deadline=None, database=None, report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(strategy)
    def run(example):
        text = repr(example)  # before the property runs, in case it mutates the example
        if seen["failure"] is None:
            seen["generated"] += 1
        try:
            seen["residuals"].append(residual_of(prop, example))
        except AssertionError as exc:
            seen["failure"] = (text, exc)
            raise

    try:
        run()
    except AssertionError:
        if seen["failure"] is None:
            raise
        text, exc = seen["failure"]
        return ctx.record(Evidence("refuted", seen["generated"], failing_residual(exc), measure,
                                   counterexample=counterexample_snippet(text, prop, exc),
                                   reproduce=reproduce_command(ctx)))
    return ctx.record(Evidence("holds", seen["generated"], max(seen["residuals"], default=math.nan), measure))


def instance_check(ctx: Context, instances, prop: Callable, *, measure: str) -> Evidence:
    """Check ``prop`` on an explicit list of instances, in order.

    Same contract as :func:`property_check`: ``prop(instance)`` returns the residual and
    raises ``AssertionError`` when the instance refutes the claim; the first such instance
    is the counterexample (list the simplest instances first), with its own residual.
    """
    residuals, n = [], 0
    for instance in instances:
        n += 1
        text = repr(instance)
        try:
            residuals.append(residual_of(prop, instance))
        except AssertionError as exc:
            return ctx.record(Evidence("refuted", n, failing_residual(exc), measure,
                                       counterexample=counterexample_snippet(text, prop, exc),
                                       reproduce=reproduce_command(ctx)))
    return ctx.record(Evidence("holds", n, max(residuals, default=math.nan), measure))


def residual_of(prop: Callable, example) -> float:
    """``prop(example)`` as a float; a NaN residual is a refutation."""
    residual = float(prop(example))
    if math.isnan(residual):
        raise AssertionError("the property returned a NaN residual")
    return residual


def failing_residual(exc: BaseException) -> float:
    """The residual a failing example's ``AssertionError`` carries (:class:`Refuted`), else NaN."""
    try:
        return float(getattr(exc, "residual", math.nan))
    except (TypeError, ValueError):
        return math.nan


#: Names a counterexample's repr may use, and the import that defines each.
SNIPPET_IMPORTS = (
    (r"\barray\(", "from numpy import array"),
    (r"\bnp\.", "import numpy as np"),
    (r"\b(inf|nan)\b", "from math import inf, nan"),
)


def counterexample_snippet(text: str, prop: Callable, exc: BaseException) -> str:
    """A failing example as Python that runs: the imports its repr ``text`` needs,
    ``example = <text>``, the call of the property when it can be imported by name (a
    module-level function of an importable module), and the error as comments. Pasted into
    Python, it re-creates the example and, with the call, raises the error again."""
    lines = [line for pattern, line in SNIPPET_IMPORTS if re.search(pattern, text)]
    classes = sorted(set(re.findall(r"\b(Stack|Network)\(", text)))
    if classes:
        lines.append(f"from pcheck import {', '.join(classes)}")
    module, name = getattr(prop, "__module__", None), getattr(prop, "__qualname__", "")
    importable = bool(module) and module != "__main__" and name.isidentifier()
    if importable:
        lines.append(f"from {module} import {name}")
    lines.append(f"example = {text}")
    if importable:
        lines.append(f"{name}(example)")
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return "\n".join(lines + ["# " + line for line in message.splitlines()])


def reproduce_command(ctx: Context) -> str:
    """The command that re-runs ``ctx``'s check: ``ctx.reproduce`` when set (under pytest, the
    test), else the ``pcheck verify`` line of ``ctx.claim_id`` with ``ctx``'s seed and profile."""
    if ctx.reproduce:
        return ctx.reproduce
    where = f" --claims '{ctx.claim_id}'" if ctx.claim_id else ""
    return f"pcheck verify{where} --seed {ctx.seed} --profile {ctx.profile}"


def notes_dir() -> Path:
    """``proofs_notes/`` of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent / "proofs_notes"


def json_safe(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists, and
    non-finite floats into the strings "inf", "-inf", "nan" (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
