"""Derive the shipped case's September 2024 close from the documents.

The documents give the September 2024 close at net level only (004 › §102 Sammanfattning):
Jan–Sep 2024 net cost 272.6 mkr over budget, revenue +37.3 and cost −309.9 mkr against
budget, the board's full-year forecast −3 652 against the budget −3 352; and 003 gives the
agency hours for May–Aug 2024 (about 34 000). Everything finer (the Jan–Sep budget, the
split per account, division and agency category) is derived here from those figures and
from the April 2023 close (``data/rjh_hsn``), by the rules written beside each step, and the
files say so row by row. Run it to write ``data/rjh_hsn/closes/2024-09/``; ``--check``
compares the files with the derivation (the test suite runs that).

    python scripts/derive_close_2024_09.py [--check]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APRIL = ROOT / "lib" / "balans" / "data" / "rjh_hsn"
OUT = APRIL / "closes" / "2024-09"

DOC004 = "004_88ad840d5e722616.txt › §102 Sammanfattning"
DOC003 = "003_5477999fa0fb7df6.txt › Hyrbemanning"
DOC002 = "002_ee4227a21ff1ffd4.txt"

# --- the documents' figures (tkr where the files hold tkr)
BUDGET_2024_NET = -3_352_000  # 004: "budgeterat -3352"
BUDGET_2024_REVENUE = 1_417_000  # assumption: held at the 2023 revenue budget (002)
DEV_REVENUE = 37_300  # 004: "en intäktsökning på 37,3 mkr"
DEV_COST = -309_900  # 004: "en kostnadsökning på 309,9 mkr"
HOURS_MAYAUG = 34_000  # 003: "ca 34 000 timmar 2024"
# --- assumptions (each named in the files where it is used)
HOURS_JANAPR = 58_000  # midway between the 2023 pace (82 167 h per four months) and May–Aug 2024
HOURS_SEP = 10_000  # 004: agency "en viss ökning efter sommaren", on May–Aug's 8 500 a month
NATIONAL_CATEGORY_CHANGE = {"doctors": -0.23, "nurses": -0.51, "other": 0.0}  # FACTS, 2023→2024


# The figures as the board reads them (figures.csv's label_sv, source_sv, note_sv): the name,
# the source in Swedish (None: the source as it is) and the note in Swedish.
FIGURES_SV: dict[str, tuple[str, str | None, str]] = {
    "budget_2024_net_cost_mkr": (
        "Budget 2024, nettokostnader",
        "004_88ad840d5e722616.txt › §102 Sammanfattning (budgeterat −3 352)",
        "Dokumenten ger bara nettot.",
    ),
    "budget_2024_revenue_mkr": (
        "Budget 2024, intäkter",
        None,
        "Inget dokument ger intäktsbudgeten för 2024: den hålls på 2023 års budget. Netto och "
        "avvikelse beror inte på den; intäkter och bruttokostnader rör sig tillsammans med den.",
    ),
    "board_forecast_2024_net_cost_mkr": (
        "Nämndens helårsprognos 2024, nettokostnader",
        None,
        "Nämndens egen prognos vid bokslutet i september.",
    ),
    "board_forecast_2024_deviation_mkr": (
        "Nämndens helårsprognos 2024, budgetavvikelse",
        None,
        "Oförändrad sedan mars 2024 (de offentliga uppgifterna).",
    ),
    "deviation_jansep_2024_revenue_tkr": (
        "Budgetavvikelse januari–september 2024, intäkter",
        None,
        "Kontona stäms av exakt mot den.",
    ),
    "deviation_jansep_2024_gross_cost_tkr": (
        "Budgetavvikelse januari–september 2024, bruttokostnader",
        None,
        "Kontona stäms av exakt mot den.",
    ),
    "deviation_jansep_2024_net_cost_tkr": (
        "Budgetavvikelse januari–september 2024, nettokostnader",
        None,
        "Kontona stäms av exakt mot den.",
    ),
    "budget_jansep_2024_revenue_tkr": (
        "Budget januari–september 2024, intäkter",
        None,
        "Intäktsbudgeten 2024 periodiserad som bokslutet i april 2023 periodiserade 2024 "
        "(januari–april med 2023 års andel för januari–april, maj–december jämnt).",
    ),
    "budget_jansep_2024_gross_cost_tkr": (
        "Budget januari–september 2024, bruttokostnader",
        None,
        "Kostnadsbudgeten 2024 (netto − intäkter) med samma periodisering.",
    ),
    "budget_jansep_2024_net_cost_tkr": (
        "Budget januari–september 2024, nettokostnader",
        None,
        "Intäkter + bruttokostnader.",
    ),
    "actual_jansep_2024_revenue_tkr": (
        "Utfall januari–september 2024, intäkter",
        None,
        "Den härledda budgeten + dokumentets avvikelse.",
    ),
    "actual_jansep_2024_gross_cost_tkr": (
        "Utfall januari–september 2024, bruttokostnader",
        None,
        "Den härledda budgeten + dokumentets avvikelse.",
    ),
    "actual_jansep_2024_net_cost_tkr": (
        "Utfall januari–september 2024, nettokostnader",
        None,
        "Intäkter + bruttokostnader.",
    ),
    "agency_hours_mayaug_2024_hours": (
        "Hyrtimmar maj–augusti 2024",
        None,
        "Delvis färre besvarade avrop under det nya nationella ramavtalet.",
    ),
    "agency_hours_janapr_2024_hours": (
        "Hyrtimmar januari–april 2024",
        "Antagande",
        "Mitt emellan takten 2023 (delårsrapporten: 145 årsarbetare × 1 700 timmar × 4/12 = "
        "82 167 timmar) och maj–augusti 2024 (Nästa nivå av kostnadsreduceringar: 34 000 timmar).",
    ),
    "agency_hours_sep_2024_hours": (
        "Hyrtimmar september 2024",
        "Antagande",
        "Protokollet: kostnaden för hyrpersonal visar 'en viss ökning efter sommaren', från "
        "maj–augustis 8 500 timmar i månaden.",
    ),
    "deviation_janmar_2024_net_cost_mkr": (
        "Budgetavvikelse januari–mars 2024, nettokostnader",
        "FACTS.md › Regionens resultat (hälso- och sjukvårdsnämnden 104,5 mkr över budget "
        "efter mars 2024, regionjh.se)",
        "Den grova fördelningen är jämn över januari–september, så månaderna visar −90,9 mkr "
        "efter mars: bara en månadsvis huvudbok kan återge denna siffra.",
    ),
}


def read(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((APRIL / name).read_text(encoding="utf-8"))))


def largest_remainder(values: list[float], total: int) -> list[int]:
    """Round to whole tkr so that the rounded values add up to ``total`` exactly."""
    floors = [int(v // 1) for v in values]
    rest = total - sum(floors)
    order = sorted(range(len(values)), key=lambda i: values[i] - floors[i], reverse=True)
    for i in order[:rest] if rest >= 0 else []:
        floors[i] += 1
    if rest < 0:  # pragma: no cover - floors never exceed the total
        raise ValueError("cannot round down")
    return floors


def csv_text(header: list[str], rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r[k]) for k in header})
    return buf.getvalue()


def derive() -> dict[str, str]:
    accounts = read("accounts.csv")
    header = list(accounts[0].keys())
    sides = {"revenue": [a for a in accounts if a["side"] == "revenue"]}
    sides["cost"] = [a for a in accounts if a["side"] == "cost"]
    budget_2023_ytd = {a["account"]: float(a["budget_ytd_tkr"]) for a in accounts}
    diff_2023 = {a["account"]: float(a["doc_diff_budget_tkr"]) for a in accounts}

    # 1. The Jan–Sep 2024 budget per account: the year's budget per side (net from 004,
    #    revenue held at 2023) shared as the April 2023 close phases 2024 (each account its
    #    share of its side's Jan–Apr 2023 budget; Jan–Apr at the Jan–Apr 2023 share of the
    #    year, May–Dec even), so both closes see the same Jan–Sep and Oct–Dec budget.
    annual = {"revenue": BUDGET_2024_REVENUE, "cost": BUDGET_2024_NET - BUDGET_2024_REVENUE}
    annual_2023 = {"revenue": 1_417_000, "cost": -4_312_000}  # 002 › Ekonomisk sammanfattning
    budget: dict[str, int] = {}
    side_budget: dict[str, int] = {}
    for side, accs in sides.items():
        ytd_2023 = sum(budget_2023_ytd[a["account"]] for a in accs)
        s_janapr = ytd_2023 / annual_2023[side]
        s_jansep = s_janapr + 5.0 * (1.0 - s_janapr) / 8.0
        total = round(annual[side] * s_jansep)
        side_budget[side] = total
        exact = [annual[side] * s_jansep * budget_2023_ytd[a["account"]] / ytd_2023 for a in accs]
        # round on magnitudes so that the side's sign does not bias the rounding
        sign = -1 if total < 0 else 1
        for a, v in zip(
            accs, largest_remainder([sign * x for x in exact], sign * total), strict=True
        ):
            budget[a["account"]] = sign * v

    # 2. The agency account from hours: 2023's Jan–Apr price per hour (002's cost over its
    #    FTE equivalents at 1 700 h a year) before May 2024, the framework agreement's prices
    #    from May (parameters.csv), on Jan–Apr and September hours that are assumptions and
    #    May–Aug hours from 003.
    agency = read("agency.csv")
    top = [c for c in agency if not c["part_of"]]
    params = {p["key"]: p for p in read("parameters.csv")}
    hours_per_fte = float(params["hours_per_fte_year"]["value"])
    hours_2023 = {c["category"]: float(c["fte_ytd"]) * hours_per_fte * 4 / 12 for c in top}
    cost_2023 = {c["category"]: -float(c["cost_ytd_mkr"]) * 1e6 for c in top}
    price_before = sum(cost_2023.values()) / sum(hours_2023.values())  # kr per hour
    change = {
        cid: float(params[f"agency_price_change_pct_{cid}"]["value"]) / 100.0
        if f"agency_price_change_pct_{cid}" in params
        else 0.0
        for cid in cost_2023
    }
    weight = {cid: cost_2023[cid] / sum(cost_2023.values()) for cid in cost_2023}
    price_after = price_before * (1.0 + sum(weight[c] * change[c] for c in change))
    hours_after = HOURS_MAYAUG + HOURS_SEP
    agency_cost = -round((HOURS_JANAPR * price_before + hours_after * price_after) / 1000.0)

    # 3. The other accounts: revenue's +37.3 and the cost not on the agency account share
    #    the documents' deviation in the proportions of 002's Jan–Apr 2023 deviations.
    actual: dict[str, int] = {"agency": agency_cost}
    for side, dev in (("revenue", DEV_REVENUE), ("cost", DEV_COST)):
        accs = [a["account"] for a in sides[side] if a["role"] != "agency"]
        rest = side_budget[side] + dev - (agency_cost if side == "cost" else 0)
        rest_dev = rest - sum(budget[a] for a in accs)
        total_diff = sum(diff_2023[a] for a in accs)
        exact = [budget[a] + rest_dev * diff_2023[a] / total_diff for a in accs]
        rounded = [round(x) for x in exact]
        big = max(range(len(accs)), key=lambda i: abs(exact[i]))
        rounded[big] += rest - sum(rounded)  # the rounding's last tkr on the largest account
        actual.update(zip(accs, rounded, strict=True))

    jansep_budget_src = (
        f"{DOC004} (budget −3 352 mkr); {DOC002} › Ekonomisk analys (the account's share of "
        "its side's Jan–Apr 2023 budget)"
    )
    out_rows = []
    for a in accounts:
        aid = a["account"]
        if aid == "agency":
            how = (
                f"Derived: Jan–Apr {HOURS_JANAPR:,} h (assumption, midway between 2023's pace "
                f"and May–Aug 2024) at {price_before:,.0f} kr/h (002's Jan–Apr 2023 cost over "
                f"FTE × 1 700 h), May–Aug {HOURS_MAYAUG:,} h (003) and September "
                f"{HOURS_SEP:,} h (assumption: 004's 'viss ökning efter sommaren') at "
                f"{price_after:,.0f} kr/h (the framework agreement's prices, parameters.csv)."
            ).replace(",", " ")
            src = f"{DOC003} (34 000 h May–Aug 2024); {DOC002} › Bemanningsföretag"
        else:
            how = (
                "Derived: budget as the year's budget shared as the April 2023 close phases "
                "2024; actual = budget + the document's deviation "
                + (
                    "(+37.3 mkr revenue)"
                    if a["side"] == "revenue"
                    else "(−309.9 mkr cost, less the agency account's)"
                )
                + " in the proportions of 002's Jan–Apr 2023 deviations."
            )
            src = f"{DOC004} (the deviation); {DOC002} › Ekonomisk analys (the proportions)"
        out_rows.append(
            {
                **{k: a[k] for k in header},
                "actual_ytd_tkr": actual[aid],
                "budget_ytd_tkr": budget[aid],
                "actual_ytd_prior_year_tkr": None,  # no document gives Jan–Sep 2023
                "doc_diff_budget_tkr": None,  # 004 gives no deviation per account
                "doc_diff_prior_year_tkr": None,
                "source": src,
                "note": how
                if aid != "personnel"
                else how + f" Budget source: {jansep_budget_src}.",
            }
        )
    files = {"accounts.csv": csv_text(header, out_rows)}

    rev_actual = sum(actual[a["account"]] for a in sides["revenue"])
    cost_actual = sum(actual[a["account"]] for a in sides["cost"])

    # 4. Divisions: the board's Jan–Sep actual per line shared as 002's Jan–Apr 2023 actual
    #    of the divisions, the 2024 budget per line as their 2023 budget (the shipped rule).
    divisions = read("divisions.csv")
    dheader = list(divisions[0].keys())
    by = {(d["division"], d["line"]): d for d in divisions}
    ids = list(dict.fromkeys(d["division"] for d in divisions))
    ytd_total = {"revenue": rev_actual / 1000.0, "gross_cost": cost_actual / 1000.0}
    year_total = {"revenue": annual["revenue"] / 1000.0, "gross_cost": annual["cost"] / 1000.0}
    drows = []
    drows_v: dict[tuple[str, str], tuple[float, float]] = {}
    for line in ("revenue", "gross_cost", "net_cost"):
        for did in ids:
            d = by[(did, line)]
            if line == "net_cost":
                ya = round(drows_v[(did, "revenue")][0] + drows_v[(did, "gross_cost")][0], 1)
                yb = round(drows_v[(did, "revenue")][1] + drows_v[(did, "gross_cost")][1], 1)
            else:
                sa = float(d["ytd_actual_mkr"]) / sum(
                    float(by[(i, line)]["ytd_actual_mkr"]) for i in ids
                )
                sb = float(d["budget_first_year_mkr"]) / sum(
                    float(by[(i, line)]["budget_first_year_mkr"]) for i in ids
                )
                ya, yb = round(ytd_total[line] * sa, 1), round(year_total[line] * sb, 1)
            drows_v[(did, line)] = (ya, yb)
            drows.append(
                {
                    "division": did,
                    "name_sv": d["name_sv"],
                    "name_en": d["name_en"],
                    "line": line,
                    "ytd_actual_mkr": ya,
                    "budget_first_year_mkr": yb,
                    "source": "Derived: the board's Jan–Sep 2024 actual and 2024 budget shared "
                    f"as the divisions' Jan–Apr 2023 actual and 2023 budget ({DOC002} › "
                    "Ekonomisk sammanfattning); 004 gives nothing per division",
                }
            )
    order = {ln: i for i, ln in enumerate(("revenue", "gross_cost", "net_cost"))}
    drows.sort(key=lambda r: (order[r["line"]], ids.index(r["division"])))
    files["divisions.csv"] = csv_text(dheader, drows)

    # 5. Agency categories: the account's cost shared by 002's Jan–Apr 2023 category costs
    #    moved by the national change per category (FACTS, a benchmark); hours per category
    #    from the category's own price, scaled to the account's hours.
    aheader = list(agency[0].keys())
    moved = {cid: cost_2023[cid] * (1.0 + NATIONAL_CATEGORY_CHANGE[cid]) for cid in cost_2023}
    cat_cost = dict(
        zip(
            moved,
            [
                -v / 1000.0
                for v in largest_remainder(
                    [-agency_cost * m / sum(moved.values()) for m in moved.values()], -agency_cost
                )
            ],
            strict=True,
        )
    )
    price_cat = {
        cid: cost_2023[cid]
        / hours_2023[cid]
        * (HOURS_JANAPR + hours_after * (1 + change[cid]))
        / (HOURS_JANAPR + hours_after)
        for cid in cost_2023
    }
    raw_hours = {cid: -cat_cost[cid] * 1000.0 / price_cat[cid] for cid in cost_2023}
    scale = (HOURS_JANAPR + hours_after) / sum(raw_hours.values())
    arows = []
    for c in top:
        cid = c["category"]
        fte = raw_hours[cid] * scale / (hours_per_fte * 9 / 12)
        arows.append(
            {
                "category": cid,
                "name_sv": c["name_sv"],
                "name_en": c["name_en"],
                "cost_ytd_mkr": round(cat_cost[cid], 3),
                "fte_ytd": round(fte, 1),
                "agency_share_target_pct": c["agency_share_target_pct"] or None,
                "source": f"Derived: {DOC003}; {DOC002} › Bemanningsföretag; FACTS.md › Agency staff",
                "note": "Derived: the agency account's Jan–Sep 2024 cost shared as 002's Jan–Apr "
                "2023 category costs moved by the national change 2023→2024 (FACTS: doctors "
                "−23 %, nurses −51 %; a benchmark, not the region's own); FTE from the account's "
                f"{HOURS_JANAPR + hours_after:,} hours shared by the category's price.".replace(
                    ",", " "
                )
                + (
                    " The target is 002's for 2023 (003 sets 7 % of personnel cost for 2024)."
                    if c["agency_share_target_pct"]
                    else ""
                ),
            }
        )
    files["agency.csv"] = csv_text(aheader, arows)

    # 6. Figures: the documents' own, and the derived totals the accounts reconcile to.
    fheader = ["key", "value", "unit", "kind", "source", "note"]
    sv_header = ["label_sv", "source_sv", "note_sv"]  # as the board reads them (FIGURES_SV)
    net_actual = rev_actual + cost_actual
    net_budget = side_budget["revenue"] + side_budget["cost"]
    frows = [
        (
            "budget_2024_net_cost_mkr",
            -3352,
            "mkr",
            "document",
            f"{DOC004} (budgeterat -3352)",
            "The documents give only the net.",
        ),
        (
            "budget_2024_revenue_mkr",
            1417,
            "mkr",
            "assumption",
            f"{DOC002} › Ekonomisk sammanfattning (Bud 2023)",
            "No document gives the 2024 revenue budget: held at the 2023 budget. Net and deviation do not depend on it; revenue and gross cost move together with it.",
        ),
        (
            "board_forecast_2024_net_cost_mkr",
            -3652,
            "mkr",
            "document",
            f"{DOC004} (helårsprognos september 2024)",
            "The board's own forecast at the September close.",
        ),
        (
            "board_forecast_2024_deviation_mkr",
            -300,
            "mkr",
            "document",
            DOC004,
            "Unchanged since March 2024 (FACTS).",
        ),
        (
            "deviation_jansep_2024_revenue_tkr",
            DEV_REVENUE,
            "tkr",
            "document",
            f"{DOC004} (intäktsökning på 37,3 mkr)",
            "The accounts reconcile to it exactly.",
        ),
        (
            "deviation_jansep_2024_gross_cost_tkr",
            DEV_COST,
            "tkr",
            "document",
            f"{DOC004} (kostnadsökning på 309,9 mkr)",
            "The accounts reconcile to it exactly.",
        ),
        (
            "deviation_jansep_2024_net_cost_tkr",
            DEV_REVENUE + DEV_COST,
            "tkr",
            "document",
            f"{DOC004} (översteg … med 272,6 mkr)",
            "The accounts reconcile to it exactly.",
        ),
        (
            "budget_jansep_2024_revenue_tkr",
            side_budget["revenue"],
            "tkr",
            "derived",
            f"{DOC004}; {DOC002}",
            "The 2024 revenue budget at the April 2023 close's phasing of 2024 (Jan–Apr at 2023's Jan–Apr share, May–Dec even).",
        ),
        (
            "budget_jansep_2024_gross_cost_tkr",
            side_budget["cost"],
            "tkr",
            "derived",
            f"{DOC004}; {DOC002}",
            "The 2024 cost budget (net − revenue) at the same phasing.",
        ),
        (
            "budget_jansep_2024_net_cost_tkr",
            net_budget,
            "tkr",
            "derived",
            f"{DOC004}; {DOC002}",
            "Revenue + gross cost.",
        ),
        (
            "actual_jansep_2024_revenue_tkr",
            rev_actual,
            "tkr",
            "derived",
            DOC004,
            "The derived budget + the document's deviation.",
        ),
        (
            "actual_jansep_2024_gross_cost_tkr",
            cost_actual,
            "tkr",
            "derived",
            DOC004,
            "The derived budget + the document's deviation.",
        ),
        (
            "actual_jansep_2024_net_cost_tkr",
            net_actual,
            "tkr",
            "derived",
            DOC004,
            "Revenue + gross cost.",
        ),
        (
            "agency_hours_mayaug_2024_hours",
            HOURS_MAYAUG,
            "hours",
            "document",
            DOC003,
            "Partly fewer answers to call-offs under the new national framework agreement.",
        ),
        (
            "agency_hours_janapr_2024_hours",
            HOURS_JANAPR,
            "hours",
            "assumption",
            "Assumption",
            "Midway between 2023's pace (002: 145 FTE × 1 700 h × 4/12 = 82 167 h) and May–Aug 2024 (003: 34 000 h).",
        ),
        (
            "agency_hours_sep_2024_hours",
            HOURS_SEP,
            "hours",
            "assumption",
            "Assumption",
            "004: agency cost 'en viss ökning efter sommaren', on May–Aug's 8 500 hours a month.",
        ),
        (
            "deviation_janmar_2024_net_cost_mkr",
            -104.5,
            "mkr",
            "document",
            "FACTS.md › The region's results (the healthcare board 104.5 mkr over budget after March 2024, regionjh.se)",
            "The coarse split is even over Jan–Sep, so the months show −90.9 mkr after March: only a monthly ledger could honour this figure.",
        ),
    ]
    fdicts = []
    for r in frows:
        d: dict[str, object] = dict(zip(fheader, r, strict=True))
        label_sv, source_sv, note_sv = FIGURES_SV[str(d["key"])]
        d.update(label_sv=label_sv, source_sv=source_sv or d["source"], note_sv=note_sv)
        fdicts.append(d)
    files["figures.csv"] = csv_text(fheader + sv_header, fdicts)

    # 7. Parameters: the April close's, for a horizon of 2024 alone.
    pheader = list(next(iter(params.values())).keys())
    prow = []
    for key, p in params.items():
        if key == "pay_revision_pct_2023":
            continue  # 2023 is not in this close's horizon
        p = dict(p)
        if key == "pay_revision_month":
            # this close takes the revision as paid (case.yaml pay_revision_paid), not to come
            p.update(
                note="The 2024 revision (April) is taken to be paid in the Jan–Sep actuals, back "
                "pay included (case.yaml, pay_revision_paid; no document says). If it was not, "
                "about 45 mkr of back pay falls in October.",
                note_sv="Lönerevisionen 2024 (april) antas vara betald i utfallet januari–september, "
                "retroaktiv lön inräknad; inget dokument säger det. Om den inte var det faller "
                "omkring 45 mkr retroaktiv lön i oktober.",
            )
        if key == "national_drug_cost_growth_pct":
            p.update(
                value="11.0",
                source="FACTS.md › Drugs (Socialstyrelsen: +11 % in 2024)",
                source_sv="FACTS.md › Läkemedel (Socialstyrelsen: +11 % 2024)",
                note="The national rate for 2024, shown as the reference.",
                note_sv="Riksgenomsnittet för 2024, visat som jämförelse.",
            )
        if key == "drug_cost_growth_pct":
            p.update(
                kind="benchmark",
                source="FACTS.md › Drugs (Socialstyrelsen: +11 % in 2024)",
                source_sv="FACTS.md › Läkemedel (Socialstyrelsen: +11 % 2024)",
                note="No document gives the region's own drug growth for 2024: the national rate (it equals the rate 002 gave for Q1 2023).",
                note_sv="Inget dokument anger regionens egen ökning av läkemedelskostnaderna för 2024: riksgenomsnittet (lika med mitten av den ökning som delårsrapporten januari–april 2023 angav för första kvartalet 2023).",
            )
        prow.append(p)
    files["parameters.csv"] = csv_text(pheader, prow)
    files["staff.csv"] = (APRIL / "staff.csv").read_text(encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare the files, write nothing")
    args = ap.parse_args(argv)
    files = derive()
    stale = [
        n
        for n, t in files.items()
        if not (OUT / n).is_file() or (OUT / n).read_text(encoding="utf-8") != t
    ]
    if args.check:
        for n in stale:
            print(f"{OUT / n}: differs from the derivation (run scripts/derive_close_2024_09.py)")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for n, t in files.items():
        (OUT / n).write_text(t, encoding="utf-8")
    print(f"wrote {', '.join(files)} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
