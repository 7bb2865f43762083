"""``pcheck verify``: the exit-code contract (0 all as expected, 1 a differing verdict or a
raising check, 2 a usage error), the table, progress lines, counterexamples, reports,
figures and ``--workers``."""

import json

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


@pytest.fixture(scope="module", autouse=True)
def scratch_claims():
    """Claims under ``zz.cli.*`` with known verdicts, removed from the registry afterwards."""
    def register(claim_id, expected, check):
        pcheck.claim(claim_id, statement=f"statement of {claim_id}", source="test_cli", note="zz.md",
                     expected=expected)(check)

    register("zz.cli.holds", "holds", lambda ctx: instance_check(ctx, [0, 1, 2], fails_at_three, measure="x/100",
                                                                    claim_id="zz.cli.holds"))
    register("zz.cli.refuted", "refuted", lambda ctx: instance_check(ctx, [1, 3], fails_at_three, measure="x/100",
                                                                        claim_id="zz.cli.refuted"))
    register("zz.cli.unexpected", "holds", lambda ctx: instance_check(ctx, [3], fails_at_three, measure="x/100",
                                                                         claim_id="zz.cli.unexpected"))
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


@pytest.mark.parametrize("args", [["--profile", "quick"], ["--workers", "0"], ["--seed", "x"], ["--claims", "no.such.*"]])
def test_exit_2_on_a_usage_error(tmp_path, args):
    try:
        code = verify(tmp_path, *args)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    assert code == 2


def test_table_progress_counterexample_and_reproduce_line(tmp_path, capsys):
    assert verify(tmp_path, "--claims", "zz.cli.[ru]*", "--seed", "7") == 1
    out, err = capsys.readouterr()
    header, rule, raises, refuted, unexpected = out.splitlines()[:5]
    assert header.split() == ["claim", "verdict", "expected", "examples", "worst", "residual", "/", "gap", "time"]
    assert refuted.split()[:6] == ["zz.cli.refuted", "refuted", "refuted", "2", "1.00e-02", "(x/100)"]
    assert raises.split()[:4] == ["zz.cli.raises", "error", "<--", "differs"]
    assert unexpected.split()[:5] == ["zz.cli.unexpected", "refuted", "<--", "differs", "holds"]
    assert "zz.cli.raises: check raised ZeroDivisionError: division by zero" in out
    assert "zz.cli.unexpected: counterexample\n3\nx == 3 breaks the claim\n" in out
    assert "reproduce: pcheck verify --claims 'zz.cli.unexpected' --seed 7 --profile dev" in out
    assert "zz.cli.refuted: counterexample\n3\n" in out  # refuted as expected still shows its counterexample
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
