"""Write the SYNTHETIC ledger exports of Region Exempel, a fictional region.

SYNTETISKT EXEMPEL – påhittad region, inga verkliga siffror. Every figure below is made up;
the shape is what a Swedish region's controller exports from the ledger:

- ``huvudbok_2024_2025.csv``: one row per month x account x unit (ansvar), actual (utfall)
  January 2024 to August 2025 and the phased 2025 budget, in kr with öre. Windows Excel's
  Swedish CSV: cp1252, ``;``-separated, decimal comma, space as thousands separator, periods
  as ``202408``, costs positive and revenue negative (the ledger's debit sign).
- ``hyrtimmar.xlsx``: agency hours per month and category (sheet ``Timmar``, a title row).
- ``personal.csv``: employees and FTE per month (UTF-8 with BOM, months as ``jan 2024``).
- ``plan_2026_2027.csv``: the three-year plan's annual budget per account code for 2026 and
  2027, in tkr.

Deterministic (numpy's generator seeded with 2025): running it again writes the same bytes.
Run from anywhere: ``python examples/exempel_region/make_synthetic.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TITLE = "SYNTETISKT EXEMPEL – påhittad region, inga verkliga siffror"
RNG = np.random.default_rng(2025)

# unit code -> name; divisions are ranges of these codes (mapping.yaml)
UNITS = {
    "1110": "Ortopedi",
    "1120": "Kirurgi",
    "1130": "Anestesi och intensivvård",
    "1140": "Operation",
    "1150": "Kvinnosjukvård",
    "1210": "Internmedicin",
    "1220": "Kardiologi",
    "1230": "Akutmottagning",
    "1240": "Geriatrik",
    "2010": "Hälsocentral Norrby",
    "2020": "Hälsocentral Söderby",
    "2030": "Hälsocentral Åsen",
    "2040": "Hälsocentral Bergby",
    "2310": "Vuxenpsykiatri",
    "2320": "Barn- och ungdomspsykiatri",
    "9010": "Hälso- och sjukvårdsledning",
    "9020": "Gemensamma kostnader",
}
HOSPITAL = ["1110", "1120", "1130", "1140", "1150", "1210", "1220", "1230", "1240"]
PRIMARY = ["2010", "2020", "2030", "2040"]
PSYCH = ["2310", "2320"]
ALL_CARE = HOSPITAL + PRIMARY + PSYCH

# account code: (name, kind, 2024 actual mkr (positive), 2025 growth, 2025 budget mkr, units)
# kind picks the seasonal profile; revenue is positive here and signed on writing.
ACCOUNTS = {
    "3010": ("Patientavgifter öppenvård", "fees", 42, 1.02, 44, PRIMARY + HOSPITAL + PSYCH),
    "3020": ("Patientavgifter slutenvård", "fees", 13, 1.01, 14, HOSPITAL),
    "3110": ("Såld vård till andra regioner", "flat", 92, 1.03, 95, HOSPITAL),
    "3210": ("Sålda laboratorietjänster", "flat", 38, 1.02, 39, ["1210", "1220", "9020"]),
    "3410": ("Övrig försäljning", "flat", 20, 1.00, 21, ["9020", "1230", "2010"]),
    "3510": ("Riktade statsbidrag", "grants", 70, 1.01, 72, ["9010"]),
    "3520": ("Övriga bidrag", "grants", 15, 1.00, 15, ["9010", "2310"]),
    "3910": ("Övriga intäkter", "flat", 12, 1.02, 12, ["9020"]),
    "5011": ("Månadslön", "pay", 640, None, None, [*ALL_CARE, "9010", "9020"]),
    "5021": ("OB-tillägg och jour", "pay", 70, None, None, HOSPITAL + PSYCH),
    "5031": ("Övertid och fyllnadstid", "overtime", 25, None, None, HOSPITAL + PSYCH),
    "5111": ("Arbetsgivaravgifter och pension (PO)", "pay", 330, None, None, [*ALL_CARE, "9010"]),
    "4551": ("Inhyrda läkare", "agency", 38, 0.95, 18, PRIMARY + PSYCH + ["1210", "1230"]),
    "4552": ("Inhyrda sjuksköterskor", "agency", 16, 0.93, 7, HOSPITAL),
    "4110": ("Rekvisitionsläkemedel", "drugs", 140, 1.07, 146, HOSPITAL + PSYCH),
    "4120": ("Förmånsläkemedel", "drugs", 230, 1.07, 234, ["9020"]),
    "4010": ("Köpt riks- och regionvård", "flat", 210, 1.06, 208, ["9020"]),
    "4030": ("Köpt vård privata vårdgivare", "purchased", 60, 1.06, 62, ["9020", "2310"]),
    "4210": ("Laboratorietjänster", "flat", 60, 1.04, 61, HOSPITAL + PRIMARY),
    "4220": ("Röntgentjänster", "flat", 35, 1.04, 36, HOSPITAL + PRIMARY),
    "4230": ("Ambulansflyg", "flat", 25, 1.04, 25, ["9020"]),
    "4310": ("Sjukvårdsartiklar", "flat", 90, 1.03, 91, ALL_CARE),
    "4410": ("Livsmedel", "flat", 20, 1.03, 21, HOSPITAL),
    "6010": ("Lokalhyror", "flat", 130, 1.03, 134, ["9020"]),
    "6050": ("El och värme", "winter", 20, 1.03, 20, ["9020"]),
    "6410": ("IT-tjänster", "flat", 60, 1.03, 61, ["9020", "9010"]),
    "7010": ("Resor", "flat", 10, 1.03, 10, ALL_CARE),
    "7610": ("Övriga kostnader", "december", 60, 1.03, 58, [*ALL_CARE, "9010", "9020"]),
    "7810": ("Avskrivningar", "flat", 40, 1.02, 41, ["9020"]),
}
REVENUE = {c for c in ACCOUNTS if c.startswith("3")}
PAY_CODES = {"5011", "5021", "5031", "5111"}
PAY_REVISION = {2024: 0.033, 2025: 0.034}  # April, paid from May with back pay
PERSONNEL_BUDGET_2025_MKR = 1085  # the board's own-staff budget (tight: the deficit's cause)

# seasonal profiles, January..December (mean about 1)
SEASON = {
    "flat": [1.0] * 12,
    "fees": [1.05, 1.05, 1.05, 1.0, 1.0, 0.9, 0.75, 0.85, 1.05, 1.1, 1.1, 1.1],
    "grants": [0.4, 0.4, 2.2, 0.4, 0.4, 2.2, 0.4, 0.4, 2.2, 0.4, 0.4, 2.2],
    # own-staff time dips in the summer holidays; December has year-end accruals
    "pay": [1.0, 0.99, 1.02, 1.0, 1.0, 0.96, 0.86, 0.93, 1.02, 1.03, 1.02, 1.07],
    "overtime": [0.9, 0.9, 0.9, 0.9, 1.0, 1.3, 1.5, 1.3, 0.9, 0.8, 0.8, 0.9],
    # more agency to staff the summer
    "agency": [0.9, 0.9, 0.95, 0.95, 1.0, 1.3, 1.5, 1.35, 0.9, 0.8, 0.75, 0.7],
    "drugs": [0.97, 0.95, 1.0, 0.98, 1.0, 1.0, 0.95, 0.98, 1.02, 1.03, 1.02, 1.1],
    "purchased": [1.0, 1.0, 1.05, 1.0, 1.0, 0.95, 0.8, 0.9, 1.05, 1.1, 1.05, 1.1],
    "winter": [1.6, 1.5, 1.3, 1.0, 0.7, 0.5, 0.4, 0.5, 0.7, 1.0, 1.3, 1.5],
    "december": [0.9, 0.9, 0.95, 0.95, 0.95, 0.95, 0.85, 0.9, 1.0, 1.0, 1.05, 1.6],
}
BUDGET_SEASON = {  # the budget's own phasing: smoother than the actuals
    "pay": [1.0, 1.0, 1.0, 1.0, 1.03, 0.97, 0.88, 0.95, 1.02, 1.02, 1.02, 1.06],
    "overtime": [0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.4, 1.2, 0.9, 0.9, 0.9, 0.9],
    "agency": [0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.4, 1.2, 0.9, 0.9, 0.9, 0.9],
    "grants": SEASON["grants"],
    "winter": SEASON["winter"],
    "december": [0.95] * 11 + [1.55],
}
AGENCY_PRICE_KR_PER_HOUR = {"4551": {2024: 1450, 2025: 1390}, "4552": {2024: 900, 2025: 870}}
PLAN_GROWTH = {2026: 1.03, 2027: 1.06}  # on the 2025 budget, per account (agency falls)
PLAN_AGENCY = {2026: 0.7, 2027: 0.5}


def _norm(profile: list[float]) -> np.ndarray:
    p = np.asarray(profile, dtype=float)
    return p * 12 / p.sum()


def _shares(units: list[str]) -> dict[str, float]:
    w = RNG.uniform(0.6, 1.4, len(units))
    return dict(zip(units, w / w.sum(), strict=True))


def _pay_index(year: int, month: int) -> float:
    """Own-staff pay level (January 2024 = 1), plus the back pay booked in May."""
    level = 1.0
    for y, rate in PAY_REVISION.items():
        if (year, month) >= (y, 5):
            level *= 1 + rate
    staff_drift = 1.0 + 0.006 * ((year - 2024) * 12 + month - 1) / 12
    back_pay = PAY_REVISION.get(year, 0) if month == 5 else 0.0  # April's rise, paid in May
    return level * staff_drift + back_pay * level / (1 + PAY_REVISION.get(year, 0))


def build() -> dict[str, object]:
    """Monthly actual and budget in kr (positive) per (year, month, code, unit)."""
    actual: dict[tuple[int, int, str, str], float] = {}
    budget: dict[tuple[int, int, str, str], float] = {}
    pay_mean_2024 = np.mean([_pay_index(2024, m) for m in range(1, 13)])
    pay_total_2025 = 0.0
    shares = {code: _shares(spec[5]) for code, spec in ACCOUNTS.items()}
    for code, (_name, kind, mkr_2024, growth, _bud, _units) in ACCOUNTS.items():
        season = _norm(SEASON[kind])
        for year in (2024, 2025):
            for m in range(1, 13):
                if (year, m) > (2025, 8):
                    continue
                if code in PAY_CODES:
                    level = mkr_2024 * 1e6 / 12 * _pay_index(year, m) / pay_mean_2024
                    if code == "5031" and year == 2025:
                        level *= 1.15  # more overtime as agency is phased out
                else:
                    trend = (growth or 1.0) ** ((year - 2024) + (m - 6.5) / 12)
                    level = mkr_2024 * 1e6 / 12 * trend
                for unit, share in shares[code].items():
                    noise = 1 + RNG.normal(0, 0.025)
                    actual[(year, m, code, unit)] = round(level * season[m - 1] * share * noise, 2)
    # the 2025 budget: phased by the budget's own profile; own staff as one envelope
    for code, (_name, kind, mkr_2024, _growth, bud_mkr, _units) in ACCOUNTS.items():
        if code in PAY_CODES:
            bud_mkr = PERSONNEL_BUDGET_2025_MKR * mkr_2024 / 1065
        pay_total_2025 += bud_mkr if code in PAY_CODES else 0
        season = _norm(BUDGET_SEASON.get(kind, [1.0] * 12))
        for m in range(1, 13):
            for unit, share in shares[code].items():
                budget[(2025, m, code, unit)] = round(bud_mkr * 1e6 / 12 * season[m - 1] * share)
    return {"actual": actual, "budget": budget, "shares": shares}


def sv_amount(x: float) -> str:
    """1 234 567,89 (space thousands separator, decimal comma, '-' for minus)."""
    text = f"{abs(x):,.2f}".replace(",", " ").replace(".", ",")
    if text.endswith(",00"):
        text = text[:-3]
    return ("-" if x < 0 else "") + text


def write_ledger(data: dict[str, object]) -> int:
    actual = data["actual"]
    budget = data["budget"]
    keys = sorted(set(actual) | set(budget))  # type: ignore[arg-type]
    lines = [f"# {TITLE}", "Period;Konto;Kontonamn;Ansvar;Ansvarsnamn;Utfall;Budget"]
    for year, m, code, unit in keys:
        sign = -1 if code in REVENUE else 1  # the ledger's sign: costs positive
        a = actual.get((year, m, code, unit))  # type: ignore[union-attr]
        b = budget.get((year, m, code, unit))  # type: ignore[union-attr]
        lines.append(
            ";".join(
                [
                    f"{year}{m:02d}",
                    code,
                    ACCOUNTS[code][0],
                    unit,
                    UNITS[unit],
                    sv_amount(sign * a) if a is not None else "",
                    sv_amount(sign * b) if b is not None else "",
                ]
            )
        )
    (HERE / "huvudbok_2024_2025.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return len(keys)


def write_hours(data: dict[str, object]) -> None:
    import openpyxl

    actual = data["actual"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Timmar"
    ws.append([TITLE])
    ws.append(["Period", "Kategori", "Timmar"])
    for year in (2024, 2025):
        for m in range(1, 13):
            if (year, m) > (2025, 8):
                continue
            for code, label in (("4551", "Läkare"), ("4552", "Sjuksköterskor")):
                kr = sum(v for k, v in actual.items() if k[:3] == (year, m, code))  # type: ignore[union-attr]
                price = AGENCY_PRICE_KR_PER_HOUR[code][year] * (1.1 if m in (6, 7, 8) else 1.0)
                hours = round(kr / price * (1 + RNG.normal(0, 0.02)) * 2) / 2
                ws.append([dt.datetime(year, m, 1), label, hours])
                ws.cell(ws.max_row, 1).number_format = "yyyy-mm"
    wb.properties.title = TITLE
    wb.properties.creator = "make_synthetic.py"
    wb.properties.created = dt.datetime(2025, 9, 15)
    wb.properties.modified = dt.datetime(2025, 9, 15)
    path = HERE / "hyrtimmar.xlsx"
    wb.save(path)
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """openpyxl stamps the save time into the zip and docProps; fix both (same bytes each run)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    stamp = b"2025-09-15T00:00:00Z"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data
                )
            z.writestr(
                zipfile.ZipInfo(name, date_time=(2025, 9, 15, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )


def write_staff() -> None:
    names = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
    summer = {6: 60, 7: 90, 8: 40}  # summer substitutes (sommarvikarier)
    lines = [f"# {TITLE}", "Period;Anställda;Årsarbetare"]
    for year in (2024, 2025):
        for m in range(1, 13):
            if (year, m) > (2025, 8):
                continue
            t = (year - 2024) * 12 + m - 1
            emp = round(1490 + 1.2 * t + summer.get(m, 0) + RNG.normal(0, 4))
            fte = round(emp * (0.905 - (0.03 if m in summer else 0)) + RNG.normal(0, 2), 1)
            lines.append(f"{names[m - 1]} {year};{emp};{str(fte).replace('.', ',')}")
    (HERE / "personal.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))


def write_plan(data: dict[str, object]) -> None:
    budget = data["budget"]
    lines = [f"# {TITLE}", "År;Konto;Kontonamn;Budget"]
    for year in (2026, 2027):
        for code in ACCOUNTS:
            kr_2025 = sum(v for k, v in budget.items() if k[2] == code)  # type: ignore[union-attr]
            factor = PLAN_AGENCY[year] if code in ("4551", "4552") else PLAN_GROWTH[year]
            tkr = round(kr_2025 * factor / 1000)
            sign = -1 if code in REVENUE else 1
            amount = f"{sign * tkr:,}".replace(",", " ")
            lines.append(f"{year};{code};{ACCOUNTS[code][0]};{amount}")
    (HERE / "plan_2026_2027.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def main() -> None:
    data = build()
    n = write_ledger(data)
    write_hours(data)
    write_staff()
    write_plan(data)
    print(f"wrote {n} ledger rows and the hours, staff and plan exports to {HERE}")


if __name__ == "__main__":
    main()
