"""Scenario batches: one board report per scenario through the papermill report notebook.

A planner runs ``balans batch`` over a folder of scenario files and hands the reports to
the board: each report's figures are those of ``balans run --json``, the summary has a row
per scenario, a broken scenario does not stop the others, Ctrl-C leaves no half-written
file, and an unchanged scenario is not run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest
from conftest import REPO, SCENARIOS

from balans.faces.batch import BatchError, IsolatedKernelManager, find_scenarios, run_batch
from balans.faces.cli import main
from balans.presentation import report

NOTEBOOK = REPO / "notebooks" / "report.ipynb"
BALANS = [sys.executable, "-m", "balans"]
YEARS = (2023, 2024)


def run_json(path: Path) -> dict:
    """What ``balans run FILE --json`` prints, read back."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", str(path), "--json"]) == 0
    return json.loads(out.getvalue())


def scenario_dir(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(REPO / "scenarios" / f"{n}.yaml", root / f"{n}.yaml")
    return root


def links(html_path: Path) -> list[str]:
    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []

        def handle_starttag(self, tag, attrs):
            for k, v in attrs:
                if k in ("href", "src") and v:
                    self.found.append(v)

    p = Links()
    p.feed(html_path.read_text(encoding="utf-8"))
    return p.found


def assert_no_half_written_files(out: Path) -> None:
    """Every file in the output folder is complete, and no temporary file is left."""
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    for p in out.rglob("*"):
        if p.suffix == ".json":
            json.loads(p.read_text(encoding="utf-8"))
        elif p.suffix == ".ipynb":
            nbformat.validate(nbformat.read(p, as_version=4))
        elif p.suffix == ".html":
            assert p.read_text(encoding="utf-8").rstrip().endswith("</html>"), p
    reports = out / "reports"
    if reports.is_dir():  # a report is all three files or none
        names = {p.name.split(".")[0] for p in reports.iterdir()}
        for n in names:
            for suffix in (".ipynb", ".html", ".key_figures.json"):
                assert (reports / f"{n}{suffix}").is_file(), f"{n}{suffix} missing"


# --------------------------------------------------------------------------- the notebook


def test_report_notebook_is_a_clean_parameterised_artefact():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    params = pm.inspect_notebook(str(NOTEBOOK))
    assert set(params) == {"scenario_file", "out_dir", "lang", "case_dir", "cutoff"}
    assert all(p["inferred_type_name"] == "str" and p["help"] for p in params.values())
    # the notebook ships inside the package: no default may be a path relative to it
    assert params["scenario_file"]["default"] == '""'  # the case's scenarios/baseline.yaml
    assert params["out_dir"]["default"] == '"build/report"'  # from the working folder
    # no formula in the notebook: every other cell only calls the library
    for c in code:
        if c is tagged[0]:
            continue
        for line in "".join(c["source"]).splitlines():
            assert re.fullmatch(
                r"from balans.presentation import report|(rep = )?(rep|report)\.[\w.]+\(.*\)", line
            ), line


@pytest.mark.slow
def test_report_notebook_executes_with_its_default_parameters(tmp_path):
    nb = pm.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "report.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),  # any folder: the default scenario is the shipped baseline
    )
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    figures = report.read_key_figures(tmp_path / "build" / "report" / "baseline.key_figures.json")
    expected = run_json(REPO / "scenarios" / "baseline.yaml")
    assert figures["scenario"]["hash"] == expected["scenario"]["hash"]
    for got, want in zip(figures["years"], expected["years"], strict=True):
        for f in report.KEY_YEAR_FIELDS:
            assert got[f] == want[f], f


def test_a_bad_language_is_named_before_anything_runs():
    with pytest.raises(report.ReportError, match=r"lang = 'fi': allowed sv, en"):
        report.check_parameters("baseline.yaml", "build/report", "fi")


def test_an_empty_scenario_file_is_the_cases_baseline(tmp_path):
    from balans.resources import scenarios_dir

    params = report.check_parameters("", "out")
    assert params.scenario_file == scenarios_dir() / "baseline.yaml"
    assert params.scenario_file.is_file()
    with pytest.raises(report.ReportError, match=r"scenario_file is empty and .* does not exist"):
        report.check_parameters("", "out", case_dir=tmp_path)  # a case without scenarios/


def test_the_report_summary_is_generated_text_against_the_baseline():
    rep = report.Report.from_parameters(REPO / "scenarios" / "hyrstopp.yaml", "unused", "sv")
    text = rep.summary()._repr_html_()
    assert (
        "Vad scenariot ändrar" in text and "Hyrtimmarna minskar med 50\u00a0%" in text
    )  # what it changes
    assert "basprognosen" in text  # and what follows, against the baseline


def test_the_sources_table_names_a_source_for_every_default(case):
    table = report.sources_frame(case, "sv")
    assert len(table) == len(case.parameters)
    assert table["Källa"].str.len().min() > 0
    assert set(table["Slag"]) <= {"Dokument", "Härlett", "Nationellt riktmärke", "Antagande"}


# --------------------------------------------------------------------------- a batch


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Three shipped scenarios, two at a time, through the real command."""
    root = tmp_path_factory.mktemp("batch")
    scen = scenario_dir(root / "scenarios", ["baseline", "hyrstopp", "balanspaket_2024"])
    out = root / "out"
    t0 = time.perf_counter()
    code = main(["batch", str(scen), "--out", str(out), "--jobs", "2", "--quiet"])
    return {"scenarios": scen, "out": out, "code": code, "seconds": time.perf_counter() - t0}


@pytest.mark.slow
def test_each_report_records_the_figures_of_balans_run_json(batch):
    assert batch["code"] == 0
    for path in sorted(batch["scenarios"].glob("*.yaml")):
        figures = report.read_key_figures(
            batch["out"] / "reports" / f"{path.stem}.key_figures.json"
        )
        expected = run_json(path)
        assert figures["scenario"]["hash"] == expected["scenario"]["hash"]
        assert figures["stamp"] == expected["stamp"]
        assert [y["year"] for y in figures["years"]] == list(YEARS)
        for got, want in zip(figures["years"], expected["years"], strict=True):
            for f in report.KEY_YEAR_FIELDS:
                assert got[f] == want[f], (path.stem, got["year"], f)


@pytest.mark.slow
def test_the_summary_has_a_row_per_scenario_with_its_yearly_figures(batch):
    out = batch["out"]
    csv = pd.read_csv(out / "summary.csv")
    assert sorted(csv.scenario) == ["balanspaket_2024", "baseline", "hyrstopp"]
    for y in YEARS:
        assert {f"forecast_net_mkr_{y}", f"deviation_mkr_{y}"} <= set(csv.columns)
    xlsx = pd.read_excel(out / "summary.xlsx", sheet_name=None)  # the planners' workbook
    assert list(xlsx) == ["Om filen", "Sammanställning", "Kolumner", "Underlag"]
    sheet = xlsx["Sammanställning"]
    assert list(sheet["Scenariofil"]) == list(csv.scenario)
    for y in YEARS:
        assert list(sheet[f"Budgetavvikelse {y}"]) == list(csv[f"deviation_mkr_{y}"].round(1))
    for row in csv.itertuples():
        figures = report.read_key_figures(out / "reports" / f"{row.scenario}.key_figures.json")
        for y in figures["years"]:
            assert getattr(row, f"deviation_mkr_{y['year']}") == pytest.approx(
                y["deviation_mkr"], abs=1e-9
            )
    assert (out / "comparison.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "failures.json").read_text(encoding="utf-8")) == []


@pytest.mark.slow
def test_the_html_report_is_swedish_without_code_and_opens_offline(batch):
    page = (batch["out"] / "reports" / "hyrstopp.html").read_text(encoding="utf-8")
    for heading in (
        "Sammanfattning",
        "Prognos mot budget",
        "Från basprognos till scenario",
        "Personal och hyrpersonal mot målen",
        "Tillgänglighet",
        "Per division",
        "Per kostnadsslag",
        "Källor för alla standardvärden",
        "Osäkerhet, känslighet och genomförbarhet",
        "Varningar",
    ):
        assert heading in page, heading
    assert "sannolikheten att nå balans" in page  # the Monte Carlo result in words
    assert "from balans.presentation import report" not in page and "rep.summary()" not in page
    assert not re.search(r"<script[^>]+src=", page)  # no CDN, nothing loaded
    assert page.count("<svg") >= 6  # the charts are static images
    figures = report.read_key_figures(batch["out"] / "reports" / "hyrstopp.key_figures.json")
    for key in ("model_version", "data_hash", "scenario_hash"):
        assert figures["stamp"][key] in page


@pytest.mark.slow
def test_the_executed_notebooks_hold_no_error_and_no_warning(batch):
    for path in (batch["out"] / "reports").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.output_type == "error"], path.name
        assert not [o for o in outputs if o.get("name") == "stderr"], path.name


@pytest.mark.slow
def test_the_index_links_every_report_and_summary_and_each_link_resolves(batch):
    out = batch["out"]
    found = links(out / "index.html")
    for name in ("baseline", "hyrstopp", "balanspaket_2024"):
        for suffix in (".html", ".ipynb", ".key_figures.json", ".pdf"):
            assert f"reports/{name}{suffix}" in found
    assert {"summary.csv", "summary.xlsx", "comparison.svg", "failures.json"} <= set(found)
    assert all((out / link).is_file() for link in found)


@pytest.mark.slow
def test_an_unchanged_batch_is_not_run_again(batch):
    out = batch["out"]
    before = {p: p.stat().st_mtime_ns for p in (out / "reports").iterdir()}
    t0 = time.perf_counter()
    result = run_batch([batch["scenarios"]], out, jobs=2, progress=False)
    seconds = time.perf_counter() - t0
    assert result.exit_code == 0
    assert [o.status for o in result.outcomes] == ["cached"] * 3
    assert {p: p.stat().st_mtime_ns for p in (out / "reports").iterdir()} == before
    assert seconds < min(batch["seconds"] / 2, 5.0)


@pytest.mark.slow
def test_a_changed_scenario_is_run_again_and_only_it(batch, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(batch["out"], out)
    scen = tmp_path / "scenarios"
    shutil.copytree(batch["scenarios"], scen)
    path = scen / "hyrstopp.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  drug_cost_growth_pct: 9\n", "utf-8")
    result = run_batch([scen], out, jobs=2, progress=False)
    status = {o.name: o.status for o in result.outcomes}
    assert status == {"balanspaket_2024": "cached", "baseline": "cached", "hyrstopp": "ok"}
    figures = report.read_key_figures(out / "reports" / "hyrstopp.key_figures.json")
    assert figures["years"][1]["forecast_net_mkr"] == run_json(path)["years"][1]["forecast_net_mkr"]


# --------------------------------------------------------------------------- faults


@pytest.mark.slow
def test_a_broken_scenario_and_a_failing_notebook_do_not_stop_the_others(tmp_path, capsys):
    scen = scenario_dir(tmp_path / "scenarios", ["baseline", "hyrstopp"])
    (scen / "trasig.yaml").write_text(
        "name: Trasig\nlevers:\n  realisation_pct: 140\n", encoding="utf-8"
    )
    # a notebook that fails for one scenario, in a cell after the parameters
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(
        4,
        nbformat.v4.new_code_cell(
            'if "hyrstopp" in scenario_file:\n    raise RuntimeError("rapporten kunde inte göras")'
        ),
    )
    failing = tmp_path / "notebooks" / "report.ipynb"
    failing.parent.mkdir()
    nbformat.write(nb, failing)
    out = tmp_path / "out"

    code = main(
        [
            "batch",
            str(scen),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--quiet",
            "--notebook",
            str(failing),
        ]
    )

    assert code == 1
    assert (out / "reports" / "baseline.html").is_file()
    assert pd.read_csv(out / "summary.csv").scenario.tolist() == ["baseline"]
    failures = {f["scenario"]: f for f in json.loads((out / "failures.json").read_text("utf-8"))}
    assert set(failures) == {"hyrstopp", "trasig"}
    assert "levers.realisation_pct = 140" in failures["trasig"]["message"]
    assert "0 to 100" in failures["trasig"]["message"]
    assert failures["hyrstopp"]["cell_index"] == 5
    assert "RuntimeError: rapporten kunde inte göras" in failures["hyrstopp"]["message"]
    assert (out / failures["hyrstopp"]["failed_notebook"]).is_file()
    err = capsys.readouterr().err
    assert "FAILED hyrstopp" in err and "FAILED trasig" in err and "Traceback" not in err
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "trasig" in index and "rapporten kunde inte göras" in index
    assert_no_half_written_files(out)


MALFORMED = {  # file name -> (bytes, or None for a folder of that name; what its message says)
    "lista_som_nyckel.yaml": (b"name: x\n? [a, b]\n: 1\n", "a key must be a single value"),
    "djup.yaml": (b"name: x\nlevers: " + b"[" * 10_000 + b"]" * 10_000, "nested more than"),
    "bomb.yaml": (
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n".encode()
            for a, b in zip("abcdef", "bcdefg", strict=True)
        )
        + b"name: *g\n",
        "aliases (*name) stand for",
    ),
    "latin1.yaml": (b"name: \xc5tg\xe4rd\n", "not UTF-8 text"),
    "mapp.yaml": (None, "a folder, not a scenario file"),  # root reads any file: a folder
    "nan.yaml": (b"name: x\nassumptions: {attrition_pct_per_year: .nan}\n", "not a finite"),
    "sant.yaml": (b"name: x\nlevers: {realisation_pct: true}\n", "true or false is not a"),
    "inte_yaml.yaml": (b"name: x\nlevers: {agency: [}\n", "not valid YAML"),
    "lista.yaml": (b"- name: x\n", "expected a mapping"),
    "ovantat.yaml": (b"name: x\n", "RuntimeError: ett fel ingen har tänkt på"),
}


@pytest.mark.slow
def test_one_malformed_file_of_each_kind_does_not_stop_the_good_ones(tmp_path, capsys, monkeypatch):
    """Issue 13: a list as a key, a 10 000-deep list or an unreadable file stopped the whole
    batch with a traceback and no report. Every malformed file is listed with its short
    message, the good scenarios get their reports, and nothing is huge."""
    import balans.faces.batch

    scen = scenario_dir(tmp_path / "scenarios", ["baseline", "hyrstopp"])
    for name, (data, _) in MALFORMED.items():
        if data is None:
            (scen / name).mkdir()
        else:
            (scen / name).write_bytes(data)
    real_load = balans.faces.batch.load_scenario

    def load(path):  # any exception at all while a file is read is that file's failure
        if Path(path).name == "ovantat.yaml":
            raise RuntimeError("ett fel ingen har tänkt på")
        return real_load(path)

    monkeypatch.setattr(balans.faces.batch, "load_scenario", load)
    # a short report notebook: the parameters, the run and its key figures
    full = nbformat.read(NOTEBOOK, as_version=4)
    nb = nbformat.v4.new_notebook(metadata=full.metadata)
    nb.cells = [*full.cells[1:4], nbformat.v4.new_code_cell("rep.record_key_figures()")]
    short = tmp_path / "notebooks" / "report.ipynb"
    short.parent.mkdir()
    nbformat.write(nb, short)
    out = tmp_path / "out"

    code = main(
        ["batch", str(scen), "--out", str(out), "--jobs", "2", "--quiet", "--notebook", str(short)]
    )

    assert code == 1
    assert pd.read_csv(out / "summary.csv").scenario.tolist() == ["baseline", "hyrstopp"]
    for good in ("baseline", "hyrstopp"):
        assert (out / "reports" / f"{good}.html").is_file()
    failures = {f["scenario"]: f for f in json.loads((out / "failures.json").read_text("utf-8"))}
    assert set(failures) == {Path(n).stem for n in MALFORMED}
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err) < 2000 * (len(MALFORMED) + 1)
    for name, (_, expected) in MALFORMED.items():
        f = failures[Path(name).stem]
        assert f["kind"] == "invalid scenario file"
        assert f["message"].startswith(str(scen / name)), f["message"]
        assert expected in f["message"], f["message"]
        assert len(f["message"]) < 2000
        assert f"FAILED {Path(name).stem} ({scen / name})" in err
    assert (out / "failures.json").stat().st_size < 20_000
    assert (out / "index.html").stat().st_size < 200_000
    umask = os.umask(0o022)
    os.umask(umask)
    for made in ("summary.csv", "index.html", "manifest.json", "reports/baseline.html"):
        assert (out / made).stat().st_mode & 0o777 == 0o666 & ~umask, made  # not 0600
    assert_no_half_written_files(out)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["batch", "no/such/folder", "--out", "x"], "no/such/folder: no such folder or file"),
        (["batch", "scenarios", "--out", "x", "--jobs", "0"], "0 is below 1; allowed 1 or more"),
        (["batch", "scenarios"], "the following arguments are required: --out"),
    ],
)
def test_bad_batch_input_exits_2_with_a_message(capsys, argv, expected, tmp_path):
    argv = [a if a != "x" else str(tmp_path / "out") for a in argv]
    with pytest.raises(SystemExit) as info:
        sys.exit(main(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_two_scenario_files_with_one_name_are_refused(tmp_path):
    for sub in ("a", "b"):
        scenario_dir(tmp_path / sub, ["baseline"])
    with pytest.raises(BatchError, match="two scenario files have the name 'baseline'"):
        find_scenarios([tmp_path / "a", tmp_path / "b"])


@pytest.mark.slow
@pytest.mark.parametrize("whom", ["the whole process group", "the batch process only"])
def test_an_interrupted_batch_leaves_no_half_written_output(tmp_path, whom):
    scen = scenario_dir(tmp_path / "scenarios", ["baseline", "hyrstopp", "dygnsvila"])
    out = tmp_path / "out"
    # the batch's own (short: Unix socket paths are limited) temporary folder, so that other
    # runs on the machine cannot mix in
    private_tmp = Path(tempfile.mkdtemp(prefix="bt-", dir="/tmp"))
    proc = subprocess.Popen(
        [*BALANS, "batch", str(scen), "--out", str(out), "--jobs", "2"],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(private_tmp)},
    )
    deadline = time.monotonic() + 120
    while not list((out / "reports").glob("*.html")) and time.monotonic() < deadline:
        time.sleep(0.05)
    if whom == "the whole process group":  # Ctrl-C in a terminal
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert_no_half_written_files(out)
    done = sorted(p.name.split(".")[0] for p in (out / "reports").glob("*.html"))
    assert 1 <= len(done) < 3
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["reports"]) == done
    assert list(private_tmp.glob("balans-k-*")) == []  # the kernels' socket folders are gone

    # run again: what was done is kept, the rest is made
    result = run_batch([scen], out, jobs=2, progress=False)
    assert result.exit_code == 0
    assert sorted(o.name for o in result.outcomes if o.status == "cached") == done
    assert_no_half_written_files(out)


def test_parallel_kernels_have_private_sockets_and_cannot_clash_on_ports():
    async def start_three():
        kms = [IsolatedKernelManager(kernel_name="python3") for _ in range(3)]
        await asyncio.gather(*(km.start_kernel() for km in kms))
        clients = [km.client() for km in kms]
        try:
            for kc in clients:
                kc.start_channels()
            await asyncio.gather(*(kc.wait_for_ready(timeout=60) for kc in clients))
            replies = await asyncio.gather(
                *(kc.execute_interactive("x = 1 + 1", timeout=60) for kc in clients)
            )
            alive = [r["content"]["status"] == "ok" for r in replies]
            infos = [km.get_connection_info() for km in kms]
        finally:
            for kc in clients:
                kc.stop_channels()
            await asyncio.gather(*(km.shutdown_kernel(now=True) for km in kms))
            for km in kms:
                shutil.rmtree(km.socket_dir, ignore_errors=True)
        return kms, infos, alive

    kms, infos, alive = asyncio.run(start_three())
    assert all(alive)
    assert {i["transport"] for i in infos} == {"ipc"}
    assert len({i["ip"] for i in infos}) == 3  # each kernel its own socket path
    assert len({Path(km.socket_dir) for km in kms}) == 3


# --------------------------------------------------------------------------- CI


@pytest.mark.slow
def test_ci_batch_over_the_shipped_scenarios():
    """What CI runs: every shipped scenario through the real command, two at a time."""
    out = REPO / "build" / "ci_batch"
    proc = subprocess.run(
        [*BALANS, "batch", "scenarios", "--out", str(out), "--jobs", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    for path in SCENARIOS:
        for suffix in (".html", ".ipynb", ".key_figures.json", ".pdf"):
            assert (out / "reports" / f"{path.stem}{suffix}").is_file()
    assert len(pd.read_csv(out / "summary.csv")) == len(SCENARIOS)
    found = links(out / "index.html")
    assert len({f for f in found if f.endswith(".html")}) == len(SCENARIOS)
    assert all((out / link).is_file() for link in found)
    assert_no_half_written_files(out)


def test_kernel_sockets_fit_even_under_a_long_temporary_folder(monkeypatch, tmp_path):
    from balans.faces.batch import _short_tmp

    long_dir = tmp_path / ("a-long-folder-name-" * 4)
    long_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_dir))
    assert _short_tmp() == "/tmp"  # a socket path under the long folder would pass ~100 chars
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    assert _short_tmp() == "/tmp"


def test_a_report_of_0_bytes_is_not_counted_as_cached(tmp_path):
    """Issue 13: a report emptied by a full disk (or by hand) was taken as made."""
    from balans.faces.batch import _is_complete

    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    files = {
        "notebook": "reports/a.ipynb",
        "html": "reports/a.html",
        "key_figures": f"reports/a{report.KEY_FIGURES_SUFFIX}",
    }
    from balans import run_file

    report.write_key_figures(
        run_file(REPO / "scenarios" / "hyrstopp.yaml"), out / files["key_figures"]
    )
    (out / files["notebook"]).write_text("{}", encoding="utf-8")
    (out / files["html"]).write_text("<html></html>", encoding="utf-8")
    assert _is_complete(out, {"files": files})
    (out / files["html"]).write_bytes(b"")
    assert not _is_complete(out, {"files": files})


@pytest.mark.slow
def test_a_typo_keeps_the_last_good_report_marked_stale_until_a_new_one_is_made(tmp_path, capsys):
    """Issue 13: a typo in a scenario deleted its previous good report."""
    scen = scenario_dir(tmp_path / "scenarios", ["hyrstopp"])
    full = nbformat.read(NOTEBOOK, as_version=4)
    nb = nbformat.v4.new_notebook(metadata=full.metadata)
    nb.cells = [*full.cells[1:4], nbformat.v4.new_code_cell("rep.record_key_figures()")]
    short = tmp_path / "report.ipynb"
    nbformat.write(nb, short)
    out = tmp_path / "out"
    argv = ["batch", str(scen), "--out", str(out), "--quiet", "--notebook", str(short)]
    good_text = (scen / "hyrstopp.yaml").read_text(encoding="utf-8")
    assert main(argv) == 0
    made = (out / "reports" / "hyrstopp.html").read_bytes()

    assert "\nlevers:" in good_text
    (scen / "hyrstopp.yaml").write_text(good_text.replace("\nlevers:", "\nlever:"), "utf-8")
    capsys.readouterr()
    assert main(argv) == 1
    assert (out / "reports" / "hyrstopp.html").read_bytes() == made  # kept
    (failure,) = json.loads((out / "failures.json").read_text("utf-8"))
    assert failure["stale_report"] == "reports/hyrstopp.html"
    assert "did you mean" in failure["message"]
    err = capsys.readouterr().err
    assert "its last good report is kept, marked stale" in err
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "senaste lyckade rapporten (inaktuell" in index
    assert 'href="reports/hyrstopp.html"' in index
    assert "hyrstopp" not in (out / "summary.csv").read_text(encoding="utf-8")  # not current

    (scen / "hyrstopp.yaml").write_text(good_text, encoding="utf-8")  # the typo mended
    assert main(argv) == 0
    assert json.loads((out / "failures.json").read_text("utf-8")) == []
    assert "inaktuell" not in (out / "index.html").read_text(encoding="utf-8")


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``, and theirs (Linux /proc)."""
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.add(int(stat.parent.name))
    return kids | {g for k in kids for g in _children(k)}


def _alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc and prctl")
def test_kill_9_on_a_batch_takes_its_workers_and_kernels_with_it(tmp_path):
    """Issue 13: after ``kill -9`` the workers went on writing reports outside the lock."""
    scen = scenario_dir(tmp_path / "scenarios", ["baseline", "hyrstopp"])
    out = tmp_path / "out"
    private_tmp = Path(tempfile.mkdtemp(prefix="bk-", dir="/tmp"))
    proc = subprocess.Popen(
        [*BALANS, "batch", str(scen), "--out", str(out), "--jobs", "2", "--quiet"],
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(private_tmp)},
    )
    deadline = time.monotonic() + 120
    while not list(private_tmp.glob("balans-k-*/kernel-*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the kernels are up
    family = _children(proc.pid)
    assert len(family) >= 2, "no workers found"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in family if _alive(p)]
    for p in left:  # leave the machine clean even when the test fails
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)
    assert left == [], f"still running after the batch was killed: {left}"
    shutil.rmtree(private_tmp, ignore_errors=True)
