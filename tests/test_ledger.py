"""The ledger entry model, the two uses of ``pcheck.claim``, instance checks and the
``pcheck.claims`` entry-point path of :func:`pcheck.ledger.load_claims`."""

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

    ctx = Context()
    held = instance_check(ctx, [0, 1, 2], prop, measure="x/10", claim_id="zz.a")
    assert (held.verdict, held.examples, held.residual) == ("holds", 3, 0.2)
    refuted = instance_check(ctx, [1, 3, 4, 0], prop, measure="x/10", claim_id="zz.a")
    assert (refuted.verdict, refuted.examples, refuted.residual) == ("refuted", 2, 0.1)
    assert refuted.counterexample == "3\n3 >= 3"
    assert refuted.reproduce == "pcheck verify --claims 'zz.a' --seed 0 --profile dev"
    assert ctx.recorded == [held, refuted]


def test_instance_check_treats_nan_as_a_refutation():
    ev = instance_check(Context(), [1.0, float("nan")], lambda x: x, measure="x")
    assert ev.verdict == "refuted" and "NaN" in ev.counterexample


def test_property_check_shrinks_and_reproduces():
    def prop(n):
        assert n < 5, f"{n} >= 5"
        return 0.0

    ctx = Context(profile="dev", seed=3)
    ev = property_check(ctx, st.integers(0, 100), prop, measure="none", claim_id="zz.b", examples=100)
    assert ev.verdict == "refuted"
    assert ev.counterexample.startswith("5\n")  # the shrunk (minimal) failing example
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
            return instance_check(ctx, range(-3, 4), prop, measure="none", claim_id="userpaper.lemma1")
    '''))
    dist = tmp_path / "userpaper-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: userpaper\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[pcheck.claims]\nuserpaper = userpaper_claims\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "userpaper_claims", raising=False)
    assert "userpaper.lemma1" not in REGISTRY
    claims = ledger.load_claims()
    assert claims["userpaper.lemma1"].source == "User paper, Lemma 1"
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
