"""What a cell of an export holds, and how amounts are written: months, amounts, codes, kronor.

- Months: ``2024-08``, ``202408``, ``2024-08-31``, ``2024-08-01 00:00:00``, xlsx dates,
  ``aug 2024``, ``augusti 2024``, ``Aug-24`` (Swedish and English month names)
  (:func:`parse_month`).
- Amounts (:func:`parse_number`): ``decimal.Decimal`` from the start, never a float's guess.
  The decimal mark is ``,`` or ``.`` as the file's dialect says; a ``.`` in an amount where
  ``,`` is the decimal mark is an error (``1.234`` could be either). Thousands separators:
  space, no-break space (U+00A0, U+202F, U+2009) or none, in groups of three; ``,`` too
  where ``.`` is the decimal mark. Minus: ``-``, ``−`` (U+2212), a trailing minus
  (``1234-``) or parentheses (``(1 234)``). A lone dash is an error, not a zero.
- Units and signs: amounts are in kr from the start (``unit: kr | tkr | mkr``) and signed
  by the mapping's convention (:func:`document_sign`): ``costs: positive`` is the ledger's
  own, debit-positive one; revenue is then negative unless ``revenue:`` says otherwise. The
  case has the documents' signs: revenue positive, cost negative.
- A code cell such as ``4551 Hyrläkare`` is read as its first word (:func:`_code_cell`).
- Written: tkr with three decimals (:func:`_tkr`), kr with two (:func:`_kr_text`), and
  :func:`apportion`, whole kronor that add up to a whole-krona total exactly.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

_MONTH_NAMES = {
    **dict.fromkeys(["jan", "januari", "january"], 1),
    **dict.fromkeys(["feb", "febr", "februari", "february"], 2),
    **dict.fromkeys(["mar", "mars", "march"], 3),
    **dict.fromkeys(["apr", "april"], 4),
    **dict.fromkeys(["maj", "may"], 5),
    **dict.fromkeys(["jun", "juni", "june"], 6),
    **dict.fromkeys(["jul", "juli", "july"], 7),
    **dict.fromkeys(["aug", "augusti", "august"], 8),
    **dict.fromkeys(["sep", "sept", "september"], 9),
    **dict.fromkeys(["okt", "oktober", "oct", "october"], 10),
    **dict.fromkeys(["nov", "november"], 11),
    **dict.fromkeys(["dec", "december"], 12),
}


MONTH_ALLOWED = "a month such as 2024-08, 202408, 2024-08-31, aug 2024, augusti 2024 or Aug-24"


_M_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})$")


_M_COMPACT = re.compile(r"^(\d{4})(\d{2})$")


_M_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


_M_NAME_YEAR = re.compile(r"^([a-zåäö]+)\.?[\s\-/]*(\d{4}|\d{2})$")


_M_YEAR_NAME = re.compile(r"^(\d{4})[\s\-/]*([a-zåäö]+)\.?$")


def parse_month(value: Any) -> tuple[int, int] | None:
    """(year, month) of a month cell, or None if it is not one (see ``MONTH_ALLOWED``)."""
    if isinstance(value, dt.date):  # datetime too
        return value.year, value.month
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or value is None:
        return None
    s = str(value).strip().lower().replace("\u00a0", " ")
    y = mo = None
    if m := (_M_ISO.match(s) or _M_COMPACT.match(s)):
        y, mo = int(m.group(1)), int(m.group(2))
    elif m := _M_DATE.match(s):
        y, mo = int(m.group(1)), int(m.group(2))
        try:
            dt.date(y, mo, int(m.group(3)))
        except ValueError:
            return None
    elif m := _M_NAME_YEAR.match(s):
        mo = _MONTH_NAMES.get(m.group(1))
        y = int(m.group(2))
        y = 2000 + y if y < 100 else y
    elif m := _M_YEAR_NAME.match(s):
        y, mo = int(m.group(1)), _MONTH_NAMES.get(m.group(2))
    if y is None or mo is None or not 1 <= mo <= 12 or not 1990 <= y <= 2100:
        return None
    return y, mo


_SPACES = " \u00a0\u202f\u2009"


_NUM_COMMA = re.compile(rf"^(\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d+)(?:,(\d+))?$")


_NUM_POINT = re.compile(rf"^(\d{{1,3}}(?:[{_SPACES},]\d{{3}})+|\d+)(?:\.(\d+))?$")


_MINUSES = "-\u2212"


def amount_allowed(decimal: str) -> str:
    if decimal == ",":
        return (
            "a number such as -1 234 567,89, 1234567 or −1 234 (decimal mark ',', thousands "
            "separated by a space or not at all)"
        )
    return "a number such as -1234567.89 or 1,234,567 (decimal mark '.')"


def parse_number(value: Any, decimal: str) -> Decimal | None:
    """A Decimal from a cell, None if empty; ValueError(reason) if not a number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    s = str(value).strip()
    if not s:
        return None
    neg = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        neg, s = True, s[1:-1].strip()
    if s and s[0] in _MINUSES:
        neg, s = not neg, s[1:].lstrip()
    elif s and s[0] == "+":
        s = s[1:].lstrip()
    elif len(s) > 1 and s[-1] in _MINUSES:
        neg, s = not neg, s[:-1].rstrip()
    m = (_NUM_COMMA if decimal == "," else _NUM_POINT).match(s)
    if not m:
        if decimal == "," and "." in s and re.fullmatch(r"[\d\s.]+", s):
            raise ValueError(
                "a '.' in an amount where ',' is the decimal mark (set decimal: '.' for the file "
                "in the mapping if the export uses a decimal point)"
            )
        raise ValueError("not a number")
    whole = re.sub(rf"[{_SPACES},]", "", m.group(1))
    number = Decimal(whole + ("." + m.group(2) if m.group(2) else ""))
    return -number if neg else number


_UNIT_FACTOR = {"kr": Decimal(1), "tkr": Decimal(1000), "mkr": Decimal(1_000_000)}


def _code_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    first = s.split(maxsplit=1)
    if len(first) == 2 and first[0].isdigit():
        return first[0]  # '4551 Hyrläkare'
    return s


Month = tuple[int, int]


def _m(m: Month) -> str:
    return f"{m[0]}-{m[1]:02d}"


def _months_between(a: Month, b: Month) -> list[Month]:
    out = []
    y, mo = a
    while (y, mo) <= b:
        out.append((y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def _month_end(m: Month) -> dt.date:
    nxt = dt.date(m[0] + 1, 1, 1) if m[1] == 12 else dt.date(m[0], m[1] + 1, 1)
    return nxt - dt.timedelta(days=1)


def _tkr(kr: Decimal) -> str:
    return f"{(kr / 1000).quantize(Decimal('0.001')):.3f}"


def _kr_text(kr: Decimal) -> str:
    return f"{kr.quantize(Decimal('0.01')):.2f}"


def _round_kr(x: Decimal) -> Decimal:
    return x.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _num(x: Decimal) -> str:
    x = x.normalize()
    return f"{x:f}" if x != x.to_integral_value() else str(int(x))


def apportion(values: list[Decimal], total: Decimal) -> list[Decimal]:
    """Whole kronor near ``values`` that add up to the whole-krona ``total`` exactly
    (largest remainder; ties to the earlier value)."""
    floors = [v.to_integral_value(rounding=ROUND_FLOOR) for v in values]
    rest = int(total - sum(floors, Decimal(0)))
    if not values:
        return []
    out = list(floors)
    n = len(values)
    base, extra = divmod(rest, n)
    if base:
        out = [v + base for v in out]
    order = sorted(range(n), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[:extra]:
        out[i] += 1
    return out
