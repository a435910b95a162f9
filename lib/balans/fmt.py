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
    path = Path(__file__).with_name("locale") / f"{lang}.yaml"
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
