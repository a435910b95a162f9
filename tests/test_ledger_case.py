"""A ledger case: the figures per month x account x division, as `balans import` writes them.

The tiny case's figures written as a ledger (two divisions, 60/40 of every account) must
give the tiny case's forecast to the krona: the ledger shape changes where figures come
from, not what they say. Then the ledger's own powers: any cut-off (December included),
real divisions, a seasonal profile from the prior year, and a clear message for each
broken ledger.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from balans import load_case
from balans.errors import DataError
from balans.inputs.scenario import Scenario
from balans.model.api import run as run_scenario

TINY = Path(__file__).parent / "cases" / "tiny"
SPLIT = {"north": 0.6, "south": 0.4}


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_ledger_from(
    case_dir: Path,
    out: Path,
    *,
    prior_year: dict[str, list[float]] | None = None,
    cutoff: str | None = None,
) -> Path:
    """Write the case in ``case_dir`` as a ledger case in ``out`` (tkr, 3 decimals)."""
    case = load_case(case_dir)
    out.mkdir(parents=True)
    shutil.copy(case_dir / "parameters.csv", out / "parameters.csv")
    c = case.cutoff_index
    _write_csv(
        out / "accounts.csv",
        [
            "account",
            "name_sv",
            "name_en",
            "side",
            "role",
            "driver",
            "baseline_method",
            "source",
            "note",
        ],
        [
            [a.id, a.name_sv, a.name_en, a.side, a.role, a.driver, a.baseline_method, "test", ""]
            for a in case.accounts
        ],
    )
    _write_csv(
        out / "divisions.csv",
        ["division", "name_sv", "name_en", "source"],
        [[d, f"Division {d}", f"Division {d}", "test"] for d in SPLIT],
    )
    rows, totals = [], {}
    first_year = case.months[0][0]
    if prior_year:
        for m in range(12):
            total = sum(
                prior_year[a.id][m] * share for a in case.accounts for share in SPLIT.values()
            )
            totals[f"{first_year - 1}-{m + 1:02d}"] = {"actual_kr": f"{total * 1000:.2f}"}
            for a in case.accounts:
                for d, share in SPLIT.items():
                    v = prior_year[a.id][m] * share
                    rows.append(
                        [f"{first_year - 1}-{m + 1:02d}", a.id, d, f"{v:.3f}", "", "ledger", "test"]
                    )
    for t, (y, m) in enumerate(case.months):
        month = f"{y}-{m:02d}"
        act_kr = bud_kr = 0.0
        for ai, a in enumerate(case.accounts):
            for d, share in SPLIT.items():
                act = case.actual_tkr[t, ai] * share
                bud = case.budget_tkr[t, ai] * share
                act_s = f"{act:.3f}" if t <= c else ""
                rows.append([month, a.id, d, act_s, f"{bud:.3f}", "ledger", "test"])
                act_kr += round(act * 1000, 0) if t <= c else 0
                bud_kr += round(bud * 1000, 0)
        totals[month] = {"budget_kr": f"{bud_kr:.2f}"} | (
            {"actual_kr": f"{act_kr:.2f}"} if t <= c else {}
        )
    _write_csv(
        out / "ledger.csv",
        ["month", "account", "division", "actual_tkr", "budget_tkr", "basis", "source"],
        rows,
    )
    _write_csv(
        out / "agency.csv",
        ["category", "name_sv", "name_en", "part_of", "agency_share_target_pct", "source", "note"],
        [[g.id, g.name_sv, g.name_en, "", "", "test", ""] for g in case.agency],
    )
    H = case.param("hours_per_fte_year")
    agency_i = case.account_index("agency")
    am = []
    for t in range(c + 1):
        y, m = case.months[t]
        total = case.actual_tkr[t, agency_i]
        weights = np.array([g.cost_ytd_mkr for g in case.agency])
        for g, w in zip(case.agency, weights / weights.sum(), strict=True):
            am.append(
                [
                    f"{y}-{m:02d}",
                    g.id,
                    f"{total * w:.3f}",
                    f"{g.fte_ytd * H / 12:.3f}",
                    "ledger",
                    "test",
                ]
            )
    _write_csv(
        out / "agency_months.csv", ["month", "category", "cost_tkr", "hours", "basis", "source"], am
    )
    cy, cm = case.cutoff
    _write_csv(
        out / "staff.csv",
        ["date", "employees", "fte", "source"],
        [[f"{cy}-{cm:02d}-30", case.employees, "", "test"]],
    )
    _write_csv(out / "figures.csv", ["key", "value", "unit", "kind", "source", "note"], [])
    (out / "provenance.yaml").write_text(yaml.safe_dump({"totals": totals}), encoding="utf-8")
    meta = {
        "id": "tiny_ledger",
        "name": "Tiny test board, as a ledger",
        "first_month": f"{case.months[0][0]}-01",
        "cutoff_month": cutoff or f"{cy}-{cm:02d}",
        "last_month": f"{case.months[-1][0]}-12",
        "employees_date": f"{cy}-{cm:02d}-30",
        "ledger": "ledger.csv",
        "pay_revision_paid": False,  # the tiny case's convention: the revision is still to come
    }
    (out / "case.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture
def tiny_ledger(tmp_path: Path) -> Path:
    return write_ledger_from(TINY, tmp_path / "tiny_ledger")


def test_the_tiny_case_as_a_ledger_gives_the_same_forecast_to_the_krona(tiny_ledger: Path) -> None:
    coarse = run_scenario(Scenario(name="bas"), case=TINY)
    ledger = run_scenario(Scenario(name="bas"), case=tiny_ledger)
    assert ledger.case.is_ledger and not coarse.case.is_ledger
    np.testing.assert_allclose(ledger.engine.baseline, coarse.engine.baseline, atol=0.001)
    a = coarse.to_dict()["years"]
    b = ledger.to_dict()["years"]
    for ya, yb in zip(a, b, strict=True):
        assert yb["forecast_net_mkr"] == pytest.approx(ya["forecast_net_mkr"], abs=1e-6)
        assert yb["budget_net_mkr"] == pytest.approx(ya["budget_net_mkr"], abs=1e-6)


def test_a_ledger_case_has_real_divisions_whose_months_are_the_ledger(tiny_ledger: Path) -> None:
    r = run_scenario(Scenario(name="bas"), case=tiny_ledger)
    div = r.divisions_frame()
    assert set(div["basis"]) == {"document"}
    y0 = div[div["year"] == div["year"].min()]
    north, south = (float(y0[y0["division"] == d]["net_mkr"].iloc[0]) for d in ("north", "south"))
    assert north / (north + south) == pytest.approx(0.6)
    total = next(y for y in r.to_dict()["years"] if y["year"] == int(y0["year"].iloc[0]))
    assert north + south == pytest.approx(total["forecast_net_mkr"], abs=1e-9)
    months = r.monthly_frame()
    assert set(months["actual_basis"][: r.case.cutoff_index + 1]) == {"document"}


def test_a_december_cut_off_is_full_year_actuals(tmp_path: Path) -> None:
    case = write_ledger_from(TINY, tmp_path / "dec")
    meta = yaml.safe_load((case / "case.yaml").read_text())
    # make every 2023 month an actual: copy the budget into the actual column
    rows = list(csv.DictReader((case / "ledger.csv").open(encoding="utf-8")))
    for r in rows:
        if r["month"].startswith("2023"):
            r["actual_tkr"] = r["budget_tkr"]
    with (case / "ledger.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    prov = yaml.safe_load((case / "provenance.yaml").read_text())
    for month, tot in prov["totals"].items():
        if month.startswith("2023"):
            tot["actual_kr"] = tot["budget_kr"]
    (case / "provenance.yaml").write_text(yaml.safe_dump(prov))
    am = list(csv.DictReader((case / "agency_months.csv").open(encoding="utf-8")))
    agency_budget = {
        r["month"]: float(r["budget_tkr"])
        for r in rows
        if r["account"] == "agency" and r["division"] == "north"
    }
    new = []
    for m in range(1, 13):
        month = f"2023-{m:02d}"
        total = agency_budget[month] / SPLIT["north"]
        for g, w in (("doctors", 0.75), ("nurses", 0.25)):
            hours = next(r["hours"] for r in am if r["category"] == g)
            new.append([month, g, f"{total * w:.3f}", hours, "ledger", "test"])
    _write_csv(
        case / "agency_months.csv",
        ["month", "category", "cost_tkr", "hours", "basis", "source"],
        new,
    )
    meta["cutoff_month"] = "2023-12"
    meta["employees_date"] = "2023-04-30"
    (case / "case.yaml").write_text(yaml.safe_dump(meta))
    r = run_scenario(Scenario(name="bas"), case=case)
    y2023 = next(y for y in r.to_dict()["years"] if y["year"] == 2023)
    assert y2023["forecast_net_mkr"] == pytest.approx(y2023["budget_net_mkr"], abs=1e-6)
    assert r.engine.first_forecast == 12 and r.engine.n_ytd == 12


def test_a_prior_year_in_the_ledger_gives_the_seasonal_profile(tmp_path: Path) -> None:
    case = load_case(TINY)
    # the year before: every account flat, except other costs that are twice as high in July
    prior = {a.id: [a.actual_ytd_tkr / 4] * 12 for a in case.accounts}
    prior["other_costs"] = [p * (2 if m == 6 else 1) for m, p in enumerate(prior["other_costs"])]
    folder = write_ledger_from(TINY, tmp_path / "season", prior_year=prior)
    r = run_scenario(Scenario(name="bas"), case=folder)
    e = r.engine
    assert e.season_basis == "prior_year"
    i = e.account_ids.index("other_costs")
    july_2023 = e.case.months.index((2023, 7))
    june_2023 = july_2023 - 1
    assert e.season[july_2023, i] == pytest.approx(2 * e.season[june_2023, i])
    assert e.season[:12, i].sum() == pytest.approx(12.0)
    # the run-rate divides Jan-Apr by their own season: June carries on at January-April's
    # level and July is twice that, as the year before was
    level = case.accounts[i].actual_ytd_tkr / 4
    assert e.baseline[june_2023, i] == pytest.approx(level, rel=1e-12)
    assert e.baseline[july_2023, i] == pytest.approx(2 * level, rel=1e-12)


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        (
            "ledger.csv",
            ("north", "west"),
            ["ledger.csv", "column 'division'", "'west'", "north, south"],
        ),
        ("ledger.csv", ("fees", "fee"), ["ledger.csv", "column 'account'", "'fee'"]),
        (
            "ledger.csv",
            ("2023-01,fees", "2023-13,fees"),
            ["ledger.csv", "column 'month'", "'2023-13'", "YYYY-MM"],
        ),
        ("provenance.yaml", ("budget_kr: '-", "budget_kr: '-1"), ["ledger.csv", "to the krona"]),
        (
            "agency_months.csv",
            ("doctors", "surgeons"),
            ["agency_months.csv", "'surgeons'", "doctors, nurses"],
        ),
    ],
)
def test_a_broken_ledger_names_the_file_the_place_and_what_is_allowed(
    tiny_ledger: Path, file: str, change: tuple[str, str], expected: list[str]
) -> None:
    path = tiny_ledger / file
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_case(tiny_ledger)
    for part in expected:
        assert part in str(info.value), str(info.value)


def test_a_missing_ledger_cell_is_named(tiny_ledger: Path) -> None:
    path = tiny_ledger / "ledger.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = next(i for i, ln in enumerate(lines) if ln.startswith("2023-02,drugs,south"))
    path.write_text("".join(lines[:dropped] + lines[dropped + 1 :]), encoding="utf-8")
    with pytest.raises(DataError, match=r"month 2023-02, account 'drugs', division 'south'"):
        load_case(tiny_ledger)


def test_an_actual_after_the_cut_off_is_refused(tiny_ledger: Path) -> None:
    path = tiny_ledger / "ledger.csv"
    text = path.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("2023-05,fees,north"))
    fixed = line.replace("2023-05,fees,north,,", "2023-05,fees,north,1.000,")
    path.write_text(text.replace(line, fixed), encoding="utf-8")
    with pytest.raises(DataError, match="an actual after the cut-off"):
        load_case(tiny_ledger)


def _scenario(**levers: object) -> Scenario:
    return Scenario.model_validate({"name": "riktad", "levers": levers})


def test_a_staffing_reduction_aimed_at_a_division_acts_on_that_division_alone(
    tiny_ledger: Path,
) -> None:
    board = run_scenario(_scenario(staffing_reduction={"target_pct": 5}), case=tiny_ledger)
    north = run_scenario(
        _scenario(staffing_reduction={"target_pct": 5, "division": "north"}), case=tiny_ledger
    )
    b = board.bridge_frame().query("step == 'staffing_reduction'").effect_mkr.to_numpy()
    n = north.bridge_frame().query("step == 'staffing_reduction'").effect_mkr.to_numpy()
    assert b.sum() > 0
    np.testing.assert_allclose(n, 0.6 * b, rtol=1e-12)  # north holds 60 % of the staff
    per_div = north.division_bridge_frame()
    mine = per_div.query("step == 'staffing_reduction'")
    assert mine.query("division == 'south'").effect_mkr.abs().max() == 0.0
    assert mine.query("division == 'north'").aimed.all()
    # per year and step the divisions add up to the board's bridge
    summed = per_div.groupby(["year", "step"]).effect_mkr.sum()
    whole = north.bridge_frame().set_index(["year", "step"]).effect_mkr
    np.testing.assert_allclose(summed.loc[whole.index].to_numpy(), whole.to_numpy(), atol=1e-9)
    # and the division table carries it: south's forecast is the baseline's
    base = run_scenario(Scenario(name="bas"), case=tiny_ledger).divisions_frame()
    div = north.divisions_frame()
    south = div.query("division == 'south'").net_mkr.to_numpy()
    np.testing.assert_allclose(south, base.query("division == 'south'").net_mkr, atol=1e-9)


def test_agency_and_measures_aimed_at_a_division_add_up(tiny_ledger: Path) -> None:
    sc = _scenario(
        agency={"change_pct": -50, "division": "south"},
        measures=[{"name": "Vårdhotell", "mkr_per_year": 0.12, "division": "north"}],
        realisation_pct=50,
    )
    r = run_scenario(sc, case=tiny_ledger)
    per_div = r.division_bridge_frame()
    summed = per_div.groupby(["year", "step"]).effect_mkr.sum()
    whole = r.bridge_frame().set_index(["year", "step"]).effect_mkr
    np.testing.assert_allclose(summed.loc[whole.index].to_numpy(), whole.to_numpy(), atol=1e-9)
    measures = per_div.query("step == 'measures'")
    assert measures.query("division == 'south'").effect_mkr.abs().max() == 0.0
    assert measures.query("division == 'north'").effect_mkr.sum() > 0
    agency = per_div.query("step == 'agency_reduction'")
    assert agency.query("division == 'north'").effect_mkr.abs().max() == 0.0
    div = r.divisions_frame().groupby("year").net_mkr.sum()
    years = {y["year"]: y["forecast_net_mkr"] for y in r.to_dict()["years"]}
    for y, net in div.items():
        assert net == pytest.approx(years[y], abs=1e-9)


def test_a_lever_aimed_at_an_unknown_or_allocated_division_is_refused(tiny_ledger: Path) -> None:
    from balans.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"not a division of this case; allowed: north, south"):
        run_scenario(
            _scenario(staffing_reduction={"target_pct": 5, "division": "west"}), case=tiny_ledger
        )
    with pytest.raises(ScenarioError, match="divisions only as totals"):
        run_scenario(_scenario(agency={"change_pct": -10, "division": "a"}), case=TINY)


def test_the_app_aims_a_lever_at_a_division_and_shares_it_in_the_link(tiny_ledger: Path) -> None:
    from balans.faces.app import BalansApp

    app = BalansApp(case=tiny_ledger)
    options = dict((v, k) for k, v in app.controls["staff_division"].options)
    assert set(options) == {"", "north", "south"}
    app.controls["staff_pct"].value = 5.0
    app.controls["staff_division"].value = "north"
    assert app.scenario.levers.staffing_reduction.division == "north"
    headline = run_scenario(app.scenario, case=tiny_ledger).to_dict()["years"]
    link = app.query_string()
    assert "staff_division=north" in link
    again = BalansApp(case=tiny_ledger, query=link)
    assert again.scenario == app.scenario
    assert again.cards.value == app.cards.value
    assert run_scenario(again.scenario, case=tiny_ledger).to_dict()["years"] == headline
    bad = BalansApp(case=tiny_ledger, query="staff_division=west&staff_pct=2")
    assert "staff_division=west (north | south)" in bad.message.value
    assert bad.scenario.levers.staffing_reduction.division is None


def test_the_app_on_a_case_without_real_divisions_offers_no_division() -> None:
    from balans.faces.app import BalansApp

    app = BalansApp(case=TINY)
    shown = {id(x) for box in app.accordion.children for x in _walk(box)}
    assert id(app.controls["staff_division"]) not in shown


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_a_ledger_case_without_staff_figures_says_what_it_needs(tiny_ledger: Path) -> None:
    (tiny_ledger / "staff.csv").write_text("date,employees,fte,source\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"staff.csv: the file has no staff figures.*staff export"):
        load_case(tiny_ledger)


def test_staff_given_as_fte_only_is_the_own_staff_base(tiny_ledger: Path) -> None:
    (tiny_ledger / "staff.csv").write_text(
        "date,employees,fte,source\n2023-03-31,,8,test\n2023-04-30,,9.5,test\n2023-05-31,,11,test\n",
        encoding="utf-8",
    )
    meta = yaml.safe_load((tiny_ledger / "case.yaml").read_text())
    del meta["employees_date"]  # the latest row at or before the cut-off
    (tiny_ledger / "case.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    e = run_scenario(Scenario(name="bas"), case=tiny_ledger).engine
    assert e.own_fte == 9.5


def test_a_cut_off_at_or_after_the_revision_month_must_say_whether_it_is_paid(
    tiny_ledger: Path,
) -> None:
    meta = yaml.safe_load((tiny_ledger / "case.yaml").read_text())
    del meta["pay_revision_paid"]
    (tiny_ledger / "case.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    with pytest.raises(DataError, match=r"pay_revision_paid.*at or after the pay revision month"):
        load_case(tiny_ledger)
    # an earlier close before the revision month needs no answer: nothing is paid yet
    with (tiny_ledger / "staff.csv").open("a", encoding="utf-8") as f:
        f.write("2023-03-31,10,,test\n")
    assert load_case(tiny_ledger, cutoff="2023-03").pay_revision_paid is False


EXEMPEL = Path(__file__).parent / "cases" / "exempel"


def test_the_prior_year_that_shapes_the_season_reconciles_and_is_whole(tmp_path: Path) -> None:
    case = tmp_path / "exempel"
    shutil.copytree(EXEMPEL, case)
    lines = (case / "ledger.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    july = next(i for i, ln in enumerate(lines) if ln.startswith("2024-07,lon_po,"))
    cells = lines[july].split(",")
    cells[3] = f"{float(cells[3]) * 2:.3f}"  # one inflated July cell
    tampered = lines.copy()
    tampered[july] = ",".join(cells)
    (case / "ledger.csv").write_text("".join(tampered), encoding="utf-8")
    with pytest.raises(DataError, match=r"month 2024-07: the ledger's actual adds up to"):
        load_case(case)
    (case / "ledger.csv").write_text("".join(lines[:july] + lines[july + 1 :]), encoding="utf-8")
    with pytest.raises(
        DataError, match=r"prior year 2024 is incomplete: no actual for month 2024-07"
    ):
        load_case(case)


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        ("parameters.csv", ("hours_per_fte_year,1200", "hours_per_fte_year,0"), "must be above 0"),
        (
            "parameters.csv",
            ("hours_per_fte_year,1200", "hours_per_fte_year,nan"),
            "not a finite number",
        ),
        (
            "parameters.csv",
            ("drug_cost_growth_pct,0", "drug_cost_growth_pct,inf"),
            "not a finite number",
        ),
        ("staff.csv", ("2023-04-30,10", "2023-04-30,0"), "the own staff at the cut-off is zero"),
        (
            "provenance.yaml",
            ("2023-01:\n", "2023-01: [1, 2]\n  2023-13:\n"),
            "not a mapping of totals",
        ),
    ],
)
def test_inputs_that_would_give_infinite_or_missing_figures_are_refused(
    tiny_ledger: Path, file: str, change: tuple[str, str], expected: str
) -> None:
    path = tiny_ledger / file
    text = path.read_text(encoding="utf-8")
    assert change[0] in text, text[:300]
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(DataError, match=expected):
        load_case(tiny_ledger)


def test_agency_hours_missing_from_the_export_are_derived_from_the_cost_and_say_so(
    tiny_ledger: Path,
) -> None:
    path = tiny_ledger / "agency_months.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    for r in rows[1:]:
        r[3] = ""
    _write_csv(path, rows[0], rows[1:])
    case = load_case(tiny_ledger)
    assert "agency_hours" in case.derivations
    # tiny: own staff 500 tkr a month for 10 FTE at 1200 h a year = 500 kr/h; agency at 2x
    doctors = next(c for c in case.agency if c.id == "doctors")
    assert doctors.hours_ytd == pytest.approx(-doctors.cost_ytd_mkr * 1e6 / (500 * 2))


def test_a_wrong_unit_or_sign_convention_is_named_not_silently_accepted(tiny_ledger: Path) -> None:
    # kr declared as tkr shows as a personnel cost a thousand times too high per FTE
    staff = tiny_ledger / "staff.csv"
    staff.write_text(
        staff.read_text(encoding="utf-8").replace(",10.0,", ",0.01,"), encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"mkr a year per own FTE.*unit \(kr, tkr, mkr\)"):
        load_case(tiny_ledger)
    staff.write_text(
        staff.read_text(encoding="utf-8").replace(",0.01,", ",10.0,"), encoding="utf-8"
    )
    # costs positive: the ledger's sign convention given wrong in the mapping
    path = tiny_ledger / "ledger.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    for r in rows[1:]:
        if r[3].startswith("-"):
            r[3] = r[3][1:]
    _write_csv(path, rows[0], rows[1:])
    with pytest.raises(DataError, match=r"the cost accounts add up to .* must be negative"):
        load_case(tiny_ledger)


def test_importing_the_same_data_again_keeps_the_data_version(tmp_path: Path) -> None:
    from balans.inputs.case import data_hash

    case = tmp_path / "exempel"
    shutil.copytree(EXEMPEL, case)
    before = data_hash(case)
    prov = case / "provenance.yaml"
    text = prov.read_text(encoding="utf-8")
    stamp = next(ln for ln in text.splitlines() if ln.startswith("imported_at:"))
    prov.write_text(
        text.replace(stamp, "imported_at: '2030-01-01T00:00:00+00:00'"), encoding="utf-8"
    )
    assert data_hash(case) == before
    prov.write_text(text.replace("rows: 5232", "rows: 5233"), encoding="utf-8")
    assert data_hash(case) != before


def test_the_app_s_tables_show_the_bridge_per_division_for_an_aimed_lever(
    tiny_ledger: Path,
) -> None:
    from balans.faces.app import tables_html

    r = run_scenario(
        _scenario(staffing_reduction={"target_pct": 5, "division": "north"}), case=tiny_ledger
    )
    text = tables_html(r, 2024, "sv")
    assert "Från basprognos till scenario, per division 2024" in text
    assert "Division north" in text and "*" in text
    base = run_scenario(Scenario(name="bas"), case=tiny_ledger)
    assert "per division 2024" not in tables_html(base, 2024, "sv")  # nothing moves: no bridge


@pytest.mark.parametrize("month", ["4.5", "13", "0"])
def test_a_pay_revision_month_that_is_no_month_is_refused(tiny_ledger: Path, month: str) -> None:
    path = tiny_ledger / "parameters.csv"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    i = next(i for i, ln in enumerate(lines) if ln.startswith("pay_revision_month,"))
    cells = lines[i].split(",")
    cells[1], cells[4], cells[5] = month, "0", "13"  # the file's own range widened
    lines[i] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match="not a month of the year"):
        load_case(tiny_ledger)


def test_a_lever_aimed_at_a_division_must_be_one_the_division_can_carry(tiny_ledger: Path) -> None:
    from balans.errors import ScenarioError

    with pytest.raises(
        ScenarioError, match=r"levers\.agency\.categories.*per category cannot be aimed"
    ):
        run_scenario(
            _scenario(agency={"categories": {"doctors": -50}, "division": "north"}),
            case=tiny_ledger,
        )
    # a division with no actuals on an account cannot save on it
    path = tiny_ledger / "ledger.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    south = {r[0]: r for r in rows[1:] if r[1] == "other_costs" and r[2] == "south" and r[3]}
    for r in rows[1:]:  # south's other costs move to north: the month totals stay the same
        if r[1] == "other_costs" and r[2] == "north" and r[0] in south:
            r[3] = f"{float(r[3]) + float(south[r[0]][3]):.3f}"
            south[r[0]][3] = "0.000"
    _write_csv(path, rows[0], rows[1:])
    assert south
    with pytest.raises(
        ScenarioError, match=r"levers\.measures\[0\]\.division.*no actuals on account 'other_costs'"
    ):
        run_scenario(
            _scenario(measures=[{"name": "Inköp", "mkr_per_year": 0.1, "division": "south"}]),
            case=tiny_ledger,
        )


def test_a_close_the_coarse_case_does_not_hold_is_named_with_those_it_holds() -> None:
    with pytest.raises(
        DataError, match=r"no close at that cut-off.*'2024-03'.*allowed: 2023-04, 2024-09"
    ):
        load_case(None, cutoff="2024-03")


def test_a_coarse_case_with_no_own_staff_is_refused(case_copy: Path) -> None:
    path = case_copy / "staff.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("2023-04-30,3503,", "2023-04-30,0,"), encoding="utf-8")
    with pytest.raises(DataError, match="the own staff at employees_date is zero"):
        load_case(case_copy)


def test_a_ledger_case_goes_through_the_same_rules_and_names_every_problem(
    tiny_ledger: Path,
) -> None:
    """A ledger case keeps the rules every case keeps (case_rules.LEDGER_RULES): two broken
    in two files are named in one message, each with its file, line, field and value."""
    acc = tiny_ledger / "accounts.csv"
    lines = acc.read_text(encoding="utf-8").splitlines()
    i = next(i for i, ln in enumerate(lines) if ",agency,agency," in ln)
    lines[i] = lines[i].replace(",agency,agency,", ",agency,price,")
    acc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    par = tiny_ledger / "parameters.csv"
    text = par.read_text(encoding="utf-8")
    start = next(ln for ln in text.splitlines() if ln.startswith("rest_rule_start,"))
    par.write_text(
        text.replace(start, "rest_rule_start,2099-01" + start[len("rest_rule_start,2023-10") :]),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        load_case(tiny_ledger)
    said = str(info.value)
    assert said.startswith(f"{tiny_ledger}: 2 problems in 2 files"), said
    assert (
        f"{acc}, row {i + 1}, column 'driver': the agency account must have driver 'agency'" in said
    )
    assert "(value: 'price')" in said
    assert "rest_rule_start lies after the horizon (value: '2099-01')" in said


def test_every_bad_ledger_row_is_named_at_once(tiny_ledger: Path) -> None:
    """An actual after the cut-off on one row and an account the chart does not have on
    another: both rows named in one message, with their lines and values."""
    path = tiny_ledger / "ledger.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    after = next(i for i, ln in enumerate(lines) if ln.startswith("2023-05,fees,north,,"))
    lines[after] = lines[after].replace("2023-05,fees,north,,", "2023-05,fees,north,1.000,")
    other = next(i for i, ln in enumerate(lines) if ln.startswith("2023-02,drugs,south,"))
    lines[other] = lines[other].replace("2023-02,drugs,", "2023-02,drugz,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_case(tiny_ledger)
    said = str(info.value)
    assert said.startswith(f"{tiny_ledger}: 2 problems"), said
    assert f"row {after + 1}, column 'actual_tkr': an actual after the cut-off (value: 1.0)" in said
    assert f"row {other + 1}, column 'account': names an account accounts.csv does not have" in said
    assert "(value: 'drugz')" in said
