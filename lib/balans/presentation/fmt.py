"""Labels and number formats, one place per language.

Swedish: decimal comma, a non-breaking space between thousands, the minus sign (U+2212)
and "mkr"; English: decimal point, thin grouping with commas, "MSEK".
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("sv", "en")
NBSP = "\u00a0"
MINUS = "\u2212"


@cache
def labels(lang: str = "sv") -> dict[str, Any]:
    """The label tree of a language (``locale/<lang>.yaml``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    path = Path(__file__).resolve().parent.parent / "locale" / f"{lang}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def label(key: str, lang: str = "sv") -> str:
    """A label by dotted key, e.g. ``label('steps.rest_rule')``."""
    node: Any = labels(lang)
    for part in key.split("."):
        node = node[part]
    return str(node)


def number(value: float | None, decimals: int = 0, lang: str = "sv", signed: bool = False) -> str:
    """``-1234.5`` -> ``−1 234,5`` (sv) or ``-1,234.5`` (en); None/NaN -> ``–``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if round(value, decimals) == 0:
        value = 0.0  # no "−0"
    text = f"{abs(value):,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", NBSP).replace(".", ",")
        sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    else:
        sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return sign + text


def month_name(ym: tuple[int, int] | str, lang: str = "sv") -> str:
    """``(2025, 8)`` or ``"2025-08"`` -> ``augusti 2025`` (sv) or ``August 2025`` (en)."""
    y, m = (int(ym[:4]), int(ym[5:7])) if isinstance(ym, str) else ym
    return f"{labels(lang)['narrative']['months'][m - 1]} {y}"


def mkr(value: float | None, decimals: int = 0, lang: str = "sv", signed: bool = False) -> str:
    """Money in million SEK with its unit: ``−3 215 mkr``."""
    return f"{number(value, decimals, lang, signed)}{NBSP}{label('unit_mkr', lang)}"


def pct(value: float | None, decimals: int = 1, lang: str = "sv") -> str:
    """A per cent figure: ``12,7 %`` (sv) or ``12.7%`` (en)."""
    if lang == "sv":
        return f"{number(value, decimals, lang)}{NBSP}%"
    return f"{number(value, decimals, lang)}%"


# --------------------------------------------------------------------------- figures in words
# The shapes a board paper uses, made here once for every face (narrative, warnings, the
# report's tables, the app): the fewest decimals that show a figure, never a needless zero.


def auto_decimals(value: float, most: int = 2) -> int:
    """The fewest decimals (up to ``most``) that show ``value`` as it rounds to ``most``:
    6 -> 0, 0.5 -> 1, 0.583 -> 2."""
    target = round(float(value), most)
    return next(d for d in range(most + 1) if round(float(value), d) == target)


def short(value: float, lang: str = "sv", most: int = 2) -> str:
    """A number with the fewest decimals (up to ``most``) that show it: 4,1; 1 700; 0,35."""
    return number(float(value), auto_decimals(value, most), lang)


def pct_auto(value: float, lang: str = "sv", most: int = 1) -> str:
    """A per cent figure without needless decimals: ``6 %``, ``37,4 %``."""
    return pct(value, auto_decimals(value, most), lang)


def pct_signed(value: float, lang: str = "sv", most: int = 1) -> str:
    """A signed per cent figure: ``−50 %``, ``+10 %``."""
    text = number(value, auto_decimals(value, most), lang, signed=True)
    return f"{text}{NBSP}%" if lang == "sv" else f"{text}%"


def money(value: float, lang: str = "sv", signed: bool = False) -> str:
    """mkr with the decimals a board paper uses: whole mkr from 100, one decimal from 10,
    else up to two, never a needless zero: ``−3 497 mkr``, ``46,4 mkr``, ``0,6 mkr``."""
    most = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return mkr(value, auto_decimals(value, most), lang, signed=signed)


def fte_text(value: float, lang: str = "sv") -> str:
    """FTE with at most two decimals under 10, one under 100, else whole: ``1,25``, ``1,2``,
    ``28,3``, ``127``."""
    most = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return number(value, auto_decimals(value, most), lang)
