"""The ledger entry model, the two uses of ``pcheck.claim``, instance checks and the
``pcheck.claims`` entry-point path of :func:`pcheck.ledger.load_claims`."""

import math
import sys
import textwrap

import pytest
from hypothesis import strategies as st

import pcheck
from pcheck import ledger
from pcheck.ledger import (
    REGISTRY,
    Context,
    Evidence,
    instance_check,
    property_check,
    run_claim,
)


@pytest.fixture(autouse=True)
def notes_here(tmp_path, monkeypatch):
    """The notes the scratch claims of this module name (a third party's note is a path
    relative to the registering module's package; this module's package is tests/)."""
    for name in ("zz.md", "n.md"):
        (tmp_path / name).write_text("# note\n")
    monkeypatch.setattr(ledger, "resolve_note", lambda claim_id, note, module: tmp_path / note)


@pytest.fixture
def scratch_ids():
    """Claim ids registered by a test, removed from the registry afterwards."""
    ids = []
    yield ids
    for i in ids:
        REGISTRY.pop(i, None)


def test_registration_builds_the_entry(scratch_ids):
    scratch_ids.append("zz.ledger.entry")

    @pcheck.claim("zz.ledger.entry", statement="1 + 1 = 2", source="arithmetic", note="zz.md", variants=("a", "b"))
    def check(ctx):
        return instance_check(ctx, [1, 2], lambda x: 0.0, measure="none")

    c = REGISTRY["zz.ledger.entry"]
    assert (c.id, c.statement, c.source, c.expected, c.note, c.variants) == (
        "zz.ledger.entry", "1 + 1 = 2", "arithmetic", "holds", "zz.md", ("a", "b"))
    assert c.check is check


def test_registration_needs_statement_source_and_note():
    with pytest.raises(TypeError, match="missing \\['note'\\]"):
        pcheck.claim("zz.ledger.partial", statement="s", source="src")
    with pytest.raises(ValueError, match="expected"):
        pcheck.claim("zz.ledger.bad", statement="s", source="src", note="n.md", expected="true")
    with pytest.raises(TypeError, match="id"):
        pcheck.claim("")


def test_id_only_is_the_pytest_marker():
    marker = pcheck.claim("user.theorem")
    assert isinstance(marker, pytest.MarkDecorator)
    assert (marker.name, marker.args, marker.kwargs) == ("pcheck_claim", ("user.theorem",), {})

    @pcheck.claim("user.lemma", expected="refuted")
    def test_something():
        pass

    (mark,) = test_something.pytestmark
    assert (mark.name, mark.args, mark.kwargs) == ("pcheck_claim", ("user.lemma",), {"expected": "refuted"})
    assert "user.lemma" not in REGISTRY


def test_instance_check_stops_at_the_first_counterexample():
    def prop(x):
        if x >= 3:
            raise AssertionError(f"{x} >= 3")
        return x / 10

    ctx = Context(claim_id="zz.a")
    held = instance_check(ctx, [0, 1, 2], prop, measure="x/10")
    assert (held.verdict, held.examples, held.residual) == ("holds", 3, 0.2)
    refuted = instance_check(ctx, [1, 3, 4, 0], prop, measure="x/10")
    # the failing instance's own residual: unknown (NaN) for a plain AssertionError, never the worst passing one
    assert (refuted.verdict, refuted.examples, math.isnan(refuted.residual)) == ("refuted", 2, True)
    assert refuted.counterexample == "example = 3\n# AssertionError: 3 >= 3"  # prop is local: no call line
    assert refuted.reproduce == "pcheck verify --claims 'zz.a' --seed 0 --profile dev"
    assert ctx.recorded == [held, refuted]


def test_instance_check_treats_nan_as_a_refutation():
    ev = instance_check(Context(), [1.0, float("nan")], lambda x: x, measure="x")
    assert ev.verdict == "refuted" and "NaN" in ev.counterexample


def test_property_check_shrinks_and_reproduces():
    def prop(n):
        assert n < 5, f"{n} >= 5"
        return 0.0

    ctx = Context(profile="dev", seed=3, claim_id="zz.b")
    ev = property_check(ctx, st.integers(0, 100), prop, measure="none", examples=100)
    assert ev.verdict == "refuted"
    assert ev.counterexample.startswith("example = 5\n")  # the shrunk (minimal) failing example
    assert ev.reproduce == "pcheck verify --claims 'zz.b' --seed 3 --profile dev"
    assert property_check(ctx, st.integers(0, 4), prop, measure="none", examples=10) == ctx.recorded[-1]


def test_run_claim_turns_an_exception_into_an_error_outcome(scratch_ids):
    scratch_ids.append("zz.ledger.raises")

    @pcheck.claim("zz.ledger.raises", statement="s", source="src", note="n.md")
    def check(ctx):
        raise ZeroDivisionError("division by zero")

    o = run_claim(REGISTRY["zz.ledger.raises"], Context())
    assert (o.verdict, o.as_expected, o.error) == ("error", False, "ZeroDivisionError: division by zero")


def test_run_claim_rejects_a_check_that_returns_no_evidence(scratch_ids):
    scratch_ids.append("zz.ledger.none")
    pcheck.claim("zz.ledger.none", statement="s", source="src", note="n.md")(lambda ctx: 0.5)
    o = run_claim(REGISTRY["zz.ledger.none"], Context())
    assert o.verdict == "error" and "returned float, not Evidence" in o.error


def test_evidence_and_context_validate():
    with pytest.raises(ValueError, match="verdict"):
        Evidence("maybe", 1, 0.0, "none")
    with pytest.raises(ValueError, match="profile"):
        Context(profile="fast")
    assert Context(profile="nojit").pick(dev=10, nojit=2) == 2
    assert Context(profile="thorough").pick(dev=10, ci=20) == 20


def test_entry_point_group_registers_user_claims(tmp_path, monkeypatch, scratch_ids):
    """A distribution declaring ``[pcheck.claims]`` gets its module imported by load_claims."""
    scratch_ids.append("userpaper.lemma1")
    (tmp_path / "userpaper_claims.py").write_text(textwrap.dedent('''
        import pcheck
        from pcheck.ledger import instance_check

        @pcheck.claim("userpaper.lemma1", statement="n^2 >= n for integers n", source="User paper, Lemma 1",
                      note="userpaper-lemma1.md")
        def check(ctx):
            def prop(n):
                assert n * n >= n
                return 0.0
            return instance_check(ctx, range(-3, 4), prop, measure="none")
    '''))
    (tmp_path / "userpaper-lemma1.md").write_text("# Lemma 1\n")  # the note, next to the module
    dist = tmp_path / "userpaper-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: userpaper\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[pcheck.claims]\nuserpaper = userpaper_claims\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "userpaper_claims", raising=False)
    assert "userpaper.lemma1" not in REGISTRY
    monkeypatch.undo()  # the real note resolution (and the path above) for this third-party module
    monkeypatch.syspath_prepend(str(tmp_path))
    claims = ledger.load_claims()
    assert claims["userpaper.lemma1"].source == "User paper, Lemma 1"
    assert claims["userpaper.lemma1"].note_path == str(tmp_path / "userpaper-lemma1.md")
    assert [c.id for c in ledger.select("userpaper.*")] == ["userpaper.lemma1"]
    assert run_claim(claims["userpaper.lemma1"], Context()).evidence.examples == 7
    sys.modules.pop("userpaper_claims", None)


def test_select_globs_and_sorts(scratch_ids):
    for claim_id in ("zz.sel.b", "zz.sel.a", "zz.other"):
        scratch_ids.append(claim_id)
        pcheck.claim(claim_id, statement="s", source="src", note="n.md")(lambda ctx: None)
    assert [c.id for c in ledger.select("zz.sel.*")] == ["zz.sel.a", "zz.sel.b"]
    assert ledger.select("no.such.claim.*") == []
    everything = [c.id for c in ledger.select()]
    assert everything == sorted(REGISTRY) and "zz.other" in everything


def test_property_check_counts_generated_examples_and_keeps_the_failing_residual():
    """Issue 16, item 3: "examples" counted shrink steps (62 under a 20-example profile) and the
    residual of a refuted claim was the worst passing example's, floored at 0."""
    calls = []

    def prop(n):
        calls.append(n)
        if n >= 10:
            raise pcheck.Refuted(f"{n} >= 10", residual=n - 9.5)
        return -1.0 - n  # a negative margin: not floored at 0

    ev = property_check(Context(seed=1), st.integers(0, 10_000), prop, measure="margin", examples=20)
    assert ev.verdict == "refuted" and ev.counterexample.startswith("example = 10\n")
    assert ev.residual == 0.5  # the shrunk failing example's own residual (10 - 9.5)
    first_failure = next(i for i, n in enumerate(calls) if n >= 10)
    assert ev.examples == first_failure + 1 < len(calls)  # the generated examples; the rest were shrink steps
    calls.clear()
    held = property_check(Context(seed=1), st.integers(0, 9), prop, measure="margin", examples=20)
    assert (held.verdict, held.examples, held.residual) == ("holds", len(calls), -1.0)  # worst = max, below 0


def test_a_plain_assertion_error_records_an_unknown_residual():
    def prop(x):
        assert x < 2, "too big"
        return 1e-3

    ev = instance_check(Context(), [0, 1, 2], prop, measure="m")
    assert (ev.examples, math.isnan(ev.residual)) == (3, True)  # not 1e-3, the worst passing one


def module_level_property(x):
    assert x != 2, "x = 2 breaks it"
    return 0.0


def test_the_counterexample_is_a_runnable_snippet():
    ev = instance_check(Context(), [1, 2], module_level_property, measure="m")
    assert ev.counterexample.startswith("from test_ledger import module_level_property\nexample = 2\n"
                                        "module_level_property(example)\n# AssertionError: x = 2 breaks it")
    namespace = {}
    with pytest.raises(AssertionError, match="x = 2 breaks it"):
        exec(ev.counterexample, namespace)
    assert namespace["example"] == 2


def test_run_claim_gives_the_check_its_claim_id(scratch_ids):
    """Issue 16, item 4: the id no longer has to be repeated as ``claim_id=``."""
    scratch_ids.append("zz.ledger.fromctx")

    @pcheck.claim("zz.ledger.fromctx", statement="s", source="src", note="n.md", expected="refuted")
    def check(ctx):
        return pcheck.property_check(ctx, st.just(2), module_level_property, measure="m")

    caller = Context(seed=5)
    o = run_claim(REGISTRY["zz.ledger.fromctx"], caller)
    assert o.evidence.reproduce == "pcheck verify --claims 'zz.ledger.fromctx' --seed 5 --profile dev"
    assert caller.recorded == [o.evidence] and caller.claim_id is None  # records reach the caller's context


def test_a_context_reproduce_command_wins():
    ctx = Context(claim_id="zz.x", reproduce="pytest 'test_x.py::test_y'")
    assert instance_check(ctx, [2], module_level_property, measure="m").reproduce == "pytest 'test_x.py::test_y'"


def test_a_third_party_note_must_exist_in_its_package(tmp_path, monkeypatch, scratch_ids):
    """Issue 16, item 4: ``note=`` had to name a file in pcheck's proofs_notes/ and nothing checked it."""
    monkeypatch.undo()  # the real resolve_note
    package = tmp_path / "zzpkg"
    (package / "notes").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "notes" / "lemma.md").write_text("# Lemma\n")
    (package / "claims.py").write_text(textwrap.dedent('''
        import pcheck

        @pcheck.claim("zzpkg.lemma", statement="s", source="src", note="notes/lemma.md")
        def check(ctx):
            return pcheck.Evidence("holds", 1, 0.0, "none")
    '''))
    (package / "broken.py").write_text(textwrap.dedent('''
        import pcheck

        @pcheck.claim("zzpkg.broken", statement="s", source="src", note="notes/missing.md")
        def check(ctx):
            return pcheck.Evidence("holds", 1, 0.0, "none")
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    scratch_ids += ["zzpkg.lemma", "zzpkg.broken"]
    try:
        __import__("zzpkg.claims")
        assert REGISTRY["zzpkg.lemma"].note_path == str((package / "notes" / "lemma.md").resolve())
        with pytest.raises(ValueError, match=r"note 'notes/missing.md' not found: no file .*zzpkg.notes.missing\.md"):
            __import__("zzpkg.broken")
        assert "zzpkg.broken" not in REGISTRY
    finally:
        for name in ("zzpkg", "zzpkg.claims", "zzpkg.broken"):
            sys.modules.pop(name, None)


def test_pcheck_notes_are_names_in_proofs_notes(monkeypatch):
    monkeypatch.undo()  # the real resolve_note
    assert ledger.resolve_note("zz.own", "htw-footnote7.md", "pcheck.papers.htw.footnote7") == \
        ledger.notes_dir() / "htw-footnote7.md"
    with pytest.raises(ValueError, match="is not in"):
        ledger.resolve_note("zz.own", "no-such-note.md", "pcheck.papers.htw.x")
