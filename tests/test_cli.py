"""``pcheck verify``: the exit-code contract (0 all as expected or skipped, 1 a differing
verdict or a raising check, 2 a usage error found before anything runs), the table, progress
lines, counterexamples, reports, figures and ``--workers``."""

import json
import sys

import pytest

import pcheck
from pcheck import ledger
from pcheck.harness.cli import build_parser, main
from pcheck.harness.report import notes_index
from pcheck.ledger import REGISTRY, Evidence, instance_check
from pcheck.sweep import SWEEPS


def fails_at_three(x):
    if x == 3:
        raise AssertionError("x == 3 breaks the claim")
    return x / 100


@pytest.fixture(scope="module")
def zz_note(tmp_path_factory):
    """The proofs note of the scratch claims (a third party's note must exist)."""
    path = tmp_path_factory.mktemp("notes") / "zz.md"
    path.write_text("# zz\n")
    return str(path)


@pytest.fixture(scope="module", autouse=True)
def scratch_claims(zz_note):
    """Claims under ``zz.cli.*`` with known verdicts, removed from the registry afterwards."""
    def register(claim_id, expected, check):
        pcheck.claim(claim_id, statement=f"statement of {claim_id}", source="test_cli", note=zz_note,
                     expected=expected)(check)

    register("zz.cli.holds", "holds", lambda ctx: instance_check(ctx, [0, 1, 2], fails_at_three, measure="x/100"))
    register("zz.cli.refuted", "refuted", lambda ctx: instance_check(ctx, [1, 3], fails_at_three, measure="x/100"))
    register("zz.cli.unexpected", "holds", lambda ctx: instance_check(ctx, [3], fails_at_three, measure="x/100"))
    register("zz.cli.raises", "holds", lambda ctx: 1 / 0)
    register("zz.cli.bare", "refuted", lambda ctx: Evidence("refuted", 1, 2.0, "margin", counterexample="n = 1"))
    register("zz.cli.open", "open", lambda ctx: Evidence("open", 4, 0.25, "certified gap"))

    def with_figure(ctx):
        path = ctx.report_dir / "zz-figure.svg"
        path.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
        return Evidence("holds", 1, 0.0, "none", figures=[path])

    register("zz.cli.figure", "holds", with_figure)
    yield
    for claim_id in [i for i in REGISTRY if i.startswith("zz.cli.")]:
        del REGISTRY[claim_id]


def verify(tmp_path, *args):
    return main(["verify", "--report", str(tmp_path / "report"), *args])


@pytest.mark.parametrize("pattern", ["zz.cli.holds", "zz.cli.refuted", "zz.cli.open", "zz.cli.[hor]*[den]"])
def test_exit_0_when_every_verdict_is_expected(tmp_path, pattern):
    assert verify(tmp_path, "--claims", pattern) == 0


@pytest.mark.parametrize("pattern", ["zz.cli.unexpected", "zz.cli.raises", "zz.cli.*"])
def test_exit_1_when_a_verdict_differs_or_a_check_raises(tmp_path, pattern):
    assert verify(tmp_path, "--claims", pattern) == 1


def exit_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return exc.code


@pytest.mark.parametrize("args", [["--profile", "quick"], ["--workers", "0"], ["--seed", "x"], ["--claims", "no.such.*"],
                                  ["--seed", "-1"]])
def test_exit_2_on_a_usage_error(tmp_path, args):
    assert exit_code(["verify", "--report", str(tmp_path / "report"), *args]) == 2


RUNS = []


@pytest.fixture
def counted(zz_note):
    """The claim zz.cli.counted, which records each run in RUNS."""
    RUNS.clear()
    pcheck.claim("zz.cli.counted", statement="counted", source="test_cli", note=zz_note)(
        lambda ctx: RUNS.append(ctx.seed) or Evidence("holds", 1, 0.0, "none"))
    yield RUNS
    del REGISTRY["zz.cli.counted"]


def test_negative_seed_is_a_usage_error_before_anything_runs(tmp_path, counted, capsys):
    """Issue 14, item 8: ``verify --seed -1`` was accepted and then failed claims as "error", exit 1."""
    assert exit_code(["verify", "--claims", "zz.cli.counted", "--seed", "-1", "--report", str(tmp_path)]) == 2
    assert "argument --seed: must be an integer >= 0, got -1" in capsys.readouterr().err
    assert counted == []


@pytest.mark.parametrize("target", ["file", "file/sub"])
def test_a_report_target_that_cannot_hold_a_report_is_a_usage_error_before_the_run(tmp_path, counted, capsys, target):
    """Issue 14, item 9: an existing file (FileExistsError traceback) or an unwritable target
    (OSError after the whole run) is found before any claim runs, with exit 2."""
    (tmp_path / "file").write_text("not a directory")
    assert exit_code(["verify", "--claims", "zz.cli.counted", "--report", str(tmp_path / target)]) == 2
    err = capsys.readouterr().err
    assert "pcheck verify: --report: " in err and str(tmp_path / "file") in err
    assert counted == []
    assert (tmp_path / "file").read_text() == "not a directory"


@pytest.mark.skipif(sys.platform == "win32" or __import__("os").geteuid() == 0,
                    reason="root (and Windows) can write into a read-only directory")
def test_a_read_only_report_directory_is_a_usage_error(tmp_path, counted):
    (tmp_path / "ro").mkdir(mode=0o500)
    assert exit_code(["verify", "--claims", "zz.cli.counted", "--report", str(tmp_path / "ro")]) == 2
    assert counted == []


def test_a_report_directory_that_fails_after_the_run_still_prints_the_table(tmp_path, counted, monkeypatch, capsys):
    """The target was checked before the run; should the write still fail (a full disk), the
    table is printed first and the exit is 1, without a traceback."""
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pcheck.harness.cli.write_report", full_disk)
    assert main(["verify", "--claims", "zz.cli.counted", "--report", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "zz.cli.counted" in out and "could not write the report" in err and "No space left" in err


def needs_matplotlib(ctx):
    import matplotlib.pyplot  # noqa: F401  (the check's optional dependency)

    return Evidence("holds", 1, 0.0, "none")


class Uninstalled:
    """A meta-path finder that makes a package look uninstalled: importing it, or a submodule,
    raises the ModuleNotFoundError an absent package gives (``name`` is the top package, as
    for a real missing package; ``sys.modules[name] = None`` would name the submodule)."""

    def __init__(self, package):
        self.package = package

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.package or fullname.startswith(self.package + "."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def uninstall(monkeypatch, package):
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [Uninstalled(package), *sys.meta_path])


def test_a_claim_needing_a_missing_extra_is_skipped_not_an_error(tmp_path, monkeypatch, capsys, zz_note):
    """Issue 14, item 7: without the [plot] extra three claims were "error <-- differs", exit 1."""
    uninstall(monkeypatch, "matplotlib")
    pcheck.claim("zz.cli.plots", statement="draws", source="test_cli", note=zz_note)(needs_matplotlib)
    try:
        assert verify(tmp_path, "--claims", "zz.cli.[ph]*") == 0
    finally:
        del REGISTRY["zz.cli.plots"]
    out, err = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith("zz.cli.plots"))
    assert "skipped (needs matplotlib: pip install 'pcheck[plot]')" in row and "differs" not in row
    assert "zz.cli.plots: skipped (needs matplotlib: pip install 'pcheck[plot]') in" in err
    assert "2 of 2 as expected (1 skipped: optional dependencies missing)" in err
    (entry,) = [c for c in json.loads((tmp_path / "report" / "report.json").read_text())["claims"]
                if c["id"] == "zz.cli.plots"]
    assert (entry["verdict"], entry["as_expected"], entry["error"]) == ("skipped", True, None)


def test_plot_checks_its_seed_and_output(tmp_path, capsys):
    """Issue 14, item 8: ``pcheck plot appendix-b --seed -5`` ended in a traceback."""
    assert exit_code(["plot", "appendix-b", "--seed", "-5", "--out", str(tmp_path / "figs")]) == 2
    assert "argument --seed: must be an integer >= 0, got -5" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert exit_code(["plot", "appendix-b", "--out", str(tmp_path / "file")]) == 2
    assert "argument --out:" in capsys.readouterr().err
    assert not (tmp_path / "figs").exists()


def test_plot_without_matplotlib_names_the_extra(tmp_path, monkeypatch, capsys):
    def draw(args):
        import matplotlib.pyplot  # noqa: F401

    uninstall(monkeypatch, "matplotlib")
    monkeypatch.setattr("pcheck.harness.cli.plot_command", draw)
    assert exit_code(["plot", "appendix-b", "--out", str(tmp_path)]) == 2
    assert "pcheck plot: needs matplotlib: pip install 'pcheck[plot]'" in capsys.readouterr().err


def test_table_progress_counterexample_and_reproduce_line(tmp_path, capsys):
    assert verify(tmp_path, "--claims", "zz.cli.[ru]*", "--seed", "7") == 1
    out, err = capsys.readouterr()
    header, rule, raises, refuted, unexpected = out.splitlines()[:5]
    assert header.split() == ["claim", "verdict", "expected", "origin", "examples", "worst", "residual", "/", "gap",
                              "time"]
    assert refuted.split()[:5] == ["zz.cli.refuted", "refuted", "refuted", "paper", "2"]
    assert refuted.split()[5] == "-"  # the failing instance's residual: unknown (a plain AssertionError)
    assert raises.split()[:4] == ["zz.cli.raises", "error", "<--", "differs"]
    assert unexpected.split()[:6] == ["zz.cli.unexpected", "refuted", "<--", "differs", "holds", "paper"]
    assert "zz.cli.raises: check raised ZeroDivisionError: division by zero" in out
    assert ("zz.cli.unexpected: counterexample\nfrom test_cli import fails_at_three\nexample = 3\n"
            "fails_at_three(example)\n# AssertionError: x == 3 breaks the claim\n") in out
    assert "reproduce: pcheck verify --claims 'zz.cli.unexpected' --seed 7 --profile dev" in out
    assert "zz.cli.refuted: counterexample\nfrom test_cli import fails_at_three\nexample = 3\n" in out  # shown too
    assert "[3/3] zz.cli.unexpected: refuted  (expected holds)" in err
    assert "1 of 3 as expected" in err


def test_reports_and_figures_land_in_the_report_dir(tmp_path):
    assert verify(tmp_path, "--claims", "zz.cli.figure") == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    (entry,) = report["claims"]
    assert entry["figures"] == ["zz-figure.svg"]
    assert (tmp_path / "report" / "zz-figure.svg").exists()
    assert "![zz-figure.svg](zz-figure.svg)" in (tmp_path / "report" / "report.md").read_text()


def test_no_report_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "--claims", "zz.cli.holds", "--no-report"]) == 0
    assert list(tmp_path.iterdir()) == []


def test_default_report_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "--claims", "zz.cli.holds"]) == 0
    assert sorted(p.name for p in (tmp_path / "pcheck-report").iterdir()) == ["report.json", "report.md"]


def test_workers_give_the_serial_verdicts(tmp_path, capsys):
    assert verify(tmp_path, "--claims", "zz.cli.*", "--workers", "2") == 1
    parallel = json.loads((tmp_path / "report" / "report.json").read_text())
    assert verify(tmp_path, "--claims", "zz.cli.*") == 1
    serial = json.loads((tmp_path / "report" / "report.json").read_text())

    def key(report):
        return [(c["id"], c["verdict"], c["examples"], c["residual"], c["counterexample"], c["error"])
                for c in report["claims"]]

    assert key(parallel) == key(serial)
    assert [c["id"] for c in serial["claims"]] == sorted(c["id"] for c in serial["claims"])


def test_a_refutation_without_reproduce_command_gets_one(tmp_path, capsys):
    assert verify(tmp_path, "--claims", "zz.cli.bare", "--seed", "4", "--profile", "ci") == 0
    assert "zz.cli.bare: counterexample\nn = 1\nreproduce: pcheck verify --claims 'zz.cli.bare' --seed 4 --profile ci\n" \
        in capsys.readouterr().out


def test_plot_is_a_subcommand():
    args = build_parser().parse_args(["plot", "appendix-b", "--out", "figs", "--seed", "3"])
    assert (args.command, args.figure, args.out, args.seed) == ("plot", "appendix-b", "figs", 3)


def test_a_claims_module_that_fails_to_import_is_a_differing_verdict(tmp_path, monkeypatch, capsys):
    dist = tmp_path / "zzbroken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zzbroken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[pcheck.claims]\nzzbroken = zz_missing_claims\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert verify(tmp_path, "--claims", "zz.cli.holds") == 1
    out = capsys.readouterr().out
    assert "load:zz_missing_claims: check raised ModuleNotFoundError: No module named 'zz_missing_claims'" in out
    assert "zz.cli.holds" in out
    with pytest.raises(ModuleNotFoundError):
        ledger.load_claims()


def test_notes_index_writes_and_checks(tmp_path, monkeypatch):
    monkeypatch.setattr("pcheck.harness.cli.notes_dir", lambda: tmp_path)
    assert main(["notes-index", "--check"]) == 1  # no index yet
    assert main(["notes-index"]) == 0
    assert (tmp_path / "README.md").read_text() == notes_index(ledger.load_claims().values(), SWEEPS.values())
    assert main(["notes-index", "--check"]) == 0
    (tmp_path / "README.md").write_text("edited by hand\n")
    assert main(["notes-index", "--check"]) == 1


def test_list_shows_origin_expected_and_the_last_verdict(tmp_path, capsys):
    """Issue 16, item 4: there was no ``pcheck list``."""
    report = str(tmp_path / "report")
    assert main(["list", "--claims", "zz.cli.[hu]*", "--report", report]) == 0
    out, err = capsys.readouterr()
    header, rule, holds, unexpected = out.splitlines()
    assert header.split() == ["claim", "origin", "expected", "last", "verdict"]
    assert holds.split() == ["zz.cli.holds", "paper", "holds", "-"]  # no report yet
    assert f"no pcheck verify report in {report}/ yet: run `pcheck verify`" in err
    verify(tmp_path, "--claims", "zz.cli.[hu]*")
    capsys.readouterr()
    assert main(["list", "--claims", "zz.cli.[hu]*", "--report", report]) == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert rows == {"zz.cli.holds": ["paper", "holds", "holds"],
                    "zz.cli.unexpected": ["paper", "holds", "refuted", "<--", "differs"]}
    assert f"verdicts of the report in {report}/ (started " in err
    assert exit_code(["list", "--claims", "no.such.*"]) == 2


def test_show_prints_the_entry_and_its_last_evidence(tmp_path, capsys, zz_note):
    report = str(tmp_path / "report")
    verify(tmp_path, "--claims", "zz.cli.refuted", "--seed", "3")
    capsys.readouterr()
    assert main(["show", "zz.cli.refuted", "--report", report]) == 0
    out = capsys.readouterr().out
    for expected in ["zz.cli.refuted\n==============\n\nstatement of zz.cli.refuted\n", "Source: test_cli",
                     "Origin: paper (the source states it)", "Expected verdict: refuted", f"Proofs note: {zz_note}",
                     "Verdict: refuted (as expected)", "Evidence: 2 examples, residual - (x/100), ",
                     "Counterexample:\n    from test_cli import fails_at_three\n    example = 3\n",
                     "Reproduce: pcheck verify --claims 'zz.cli.refuted' --seed 3 --profile dev"]:
        assert expected in out, expected


def test_show_a_ledger_entry_with_its_quote_and_choices(tmp_path, capsys):
    c = next(c for c in ledger.load_claims().values() if c.quote and c.free_choices and c.reading)
    assert main(["show", c.id, "--report", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert c.statement in out and f"Reading checked: {c.reading}" in out and "Free choices" in out
    assert "    > " + c.quote.splitlines()[0] in out
    assert f"Proofs note: {ledger.notes_dir() / c.note}" in out
    assert "no pcheck verify report in" in out


def test_show_run_and_unknown_ids(tmp_path, capsys):
    assert main(["show", "zz.cli.unexpected", "--run", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "Run now (profile dev, seed 2):" in out and "Verdict: refuted (differs from the expected holds)" in out
    assert exit_code(["show", "zz.cli.refutd"]) == 2
    assert "pcheck show: no claim 'zz.cli.refutd'; did you mean zz.cli.refuted" in capsys.readouterr().err
