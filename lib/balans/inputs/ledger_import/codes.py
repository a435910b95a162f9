"""The mapping's code entries and ranges, and which account, division or category a code is.

An account or unit code entry is a code (``"4551"``, matching 4551 and every longer code
that starts with it, as in Region-Bas) or a range of codes of one length (``"4000-4999"``,
matching any code whose first four digits lie in it); ``exclude:`` takes codes out again
(``40-49`` minus ``455``). A :class:`_Target` is one account, division, agency category
or ignore entry with its entries parsed.

- :func:`_overlaps`: entries of two targets that share a code are an error even before any
  row uses them (found on intervals of the codes' digits, not by trying codes).
- :func:`_resolve`: each distinct code of the rows to its target. A code that maps to
  nothing, or to two things, is an error naming the code and its rows. Rows the region
  wants out of the case (balance accounts, other boards' units) are listed under
  ``ignore_accounts`` / ``ignore_units`` with a reason; they are counted in the report and
  in ``provenance.yaml``: nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from balans.inputs.ledger_import.messages import _Problems, _rows_text

if TYPE_CHECKING:
    from balans.inputs.ledger_import.read import _Row


@dataclass(frozen=True)
class _Code:
    text: str
    lo: int | None = None  # digit entries: the range of the first `width` digits
    hi: int | None = None
    width: int = 0

    def matches(self, code: str) -> bool:
        if self.lo is None:
            return code.startswith(self.text)
        head = code[: self.width]
        return len(head) == self.width and head.isdigit() and self.lo <= int(head) <= self.hi


_RANGE = re.compile(r"^\s*(\d+)\s*[-–]\s*(\d+)\s*$")


def _parse_code_entry(text: str) -> _Code:
    m = _RANGE.match(text)
    if m:
        a, b = m.groups()
        if len(a) != len(b):
            raise ValueError(
                f"range {text!r}: both ends need the same number of digits, e.g. '4000-4999'"
            )
        if int(a) > int(b):
            raise ValueError(f"range {text!r} runs from {a} down to {b}; allowed: from <= to")
        return _Code(text.strip(), int(a), int(b), len(a))
    t = text.strip()
    if not t or any(ch.isspace() for ch in t):
        raise ValueError(f"{text!r} is not a code; allowed: a code such as '4551' or '4000-4999'")
    if t.isdigit():
        return _Code(t, int(t), int(t), len(t))
    return _Code(t)


@dataclass
class _Target:
    kind: str  # account | division | ignore | category
    id: str
    path: str  # mapping path, e.g. accounts[3]
    include: list[_Code]
    exclude: list[_Code]

    def matches(self, code: str) -> bool:
        return any(c.matches(code) for c in self.include) and not any(
            c.matches(code) for c in self.exclude
        )

    def describe(self) -> str:
        s = ", ".join(c.text for c in self.include)
        if self.exclude:
            s += " minus " + ", ".join(c.text for c in self.exclude)
        return s


def _targets(items: Iterable[Any], kind: str, path: str, attr: str) -> list[_Target]:
    out = []
    for i, it in enumerate(items):
        tid = getattr(it, "id", None) or f"{path}[{i}]"
        out.append(
            _Target(
                kind,
                tid,
                f"{path}[{i}]",
                [_parse_code_entry(c) for c in getattr(it, attr)],
                [_parse_code_entry(c) for c in getattr(it, "exclude", [])],
            )
        )
    return out


def _intervals(t: _Target, depth: int) -> list[tuple[int, int]]:
    """The digit codes of a target as closed intervals of ``depth``-digit numbers."""

    def iv(codes: list[_Code]) -> list[tuple[int, int]]:
        out = []
        for c in codes:
            if c.lo is None:
                continue
            k = 10 ** (depth - c.width)
            out.append((c.lo * k, (c.hi + 1) * k - 1))
        return sorted(out)

    inc = iv(t.include)
    for lo_x, hi_x in iv(t.exclude):
        nxt = []
        for lo, hi in inc:
            if hi < lo_x or lo > hi_x:
                nxt.append((lo, hi))
                continue
            if lo < lo_x:
                nxt.append((lo, lo_x - 1))
            if hi > hi_x:
                nxt.append((hi_x + 1, hi))
        inc = nxt
    return inc


def _overlaps(targets: list[_Target], what: str) -> list[str]:
    """Pairs of targets whose code entries share a code (before any row uses it)."""
    widths = [c.width for t in targets for c in (*t.include, *t.exclude) if c.lo is not None]
    problems = []
    if widths:
        depth = max(widths)
        ivs = [_intervals(t, depth) for t in targets]
        for i in range(len(targets)):
            for j in range(i + 1, len(targets)):
                hit = _first_common(ivs[i], ivs[j])
                if hit is not None:
                    a, b = targets[i], targets[j]
                    w = max(
                        [c.width for c in (*a.include, *b.include) if c.lo is not None] or [depth]
                    )
                    code = str(hit // 10 ** (depth - w)).zfill(w)
                    problems.append(
                        f"{what} code {code} is mapped twice: by {a.path} ({a.id}: {a.describe()}) "
                        f"and by {b.path} ({b.id}: {b.describe()})"
                    )
    lits = [(t, c) for t in targets for c in t.include if c.lo is None]
    for i, (ta, ca) in enumerate(lits):
        for tb, cb in lits[i + 1 :]:
            if ta is not tb and (ca.text.startswith(cb.text) or cb.text.startswith(ca.text)):
                problems.append(
                    f"{what} code {max(ca.text, cb.text, key=len)} is mapped twice: by {ta.path} "
                    f"({ta.id}) and by {tb.path} ({tb.id})"
                )
    return problems


def _first_common(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int | None:
    best = None
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi and (best is None or lo < best):
                best = lo
    return best


def _resolve(
    rows: list[_Row],
    acc: list[_Target],
    div: list[_Target],
    cats: list[_Target],
    agency_id: str,
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[tuple[str, int], str]]:
    """Each account code -> account id ('' = ignored); unit -> division; agency code -> category.

    Raises one problem per code that maps to nothing or to two things, naming its rows."""
    p = _Problems()
    acc_of: dict[str, str] = {}
    div_of: dict[str, str] = {}
    cat_of: dict[str, str] = {}
    ignored_by: dict[str, str] = {}

    def check(kind: str, rows_: list[_Row], targets: list[_Target], store: dict[str, str]) -> None:
        what, key = ("account code", "accounts") if kind == "a" else ("unit", "divisions")
        where: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for r in rows_:
            where[r.account if kind == "a" else r.unit][r.file].append(r.row)
        for code in sorted(where):
            hits = [t for t in targets if t.matches(code)]
            if len(hits) == 1:
                t = hits[0]
                store[code] = "" if t.kind == "ignore" else t.id
                if t.kind == "ignore":
                    ignored_by[f"{kind}:{code}"] = t.path
                continue
            files = where[code]
            f0 = next(iter(files))
            rtext = _rows_text(files[f0], 80)
            if len(files) > 1:
                rtext += "; and rows in " + ", ".join(list(files)[1:])
            if not hits:
                p.add(
                    f0,
                    f"{what} {code} maps to nothing (rows {rtext})",
                    value=code,
                    allowed=f"add it to the codes of one of the mapping's {key}, or to "
                    f"ignore_{'accounts' if kind == 'a' else 'units'} with a reason",
                )
            else:
                both = " and ".join(f"{t.path} ({t.id})" for t in hits)
                p.add(
                    f0,
                    f"{what} {code} maps to two things: {both} (rows {rtext})",
                    value=code,
                    allowed="each code in one place only (use exclude: to cut a range)",
                )

    check("a", rows, acc, acc_of)
    p.raise_if_any()
    # rows of ignored accounts (balance accounts, say) may carry any unit
    check("u", [r for r in rows if acc_of[r.account] != ""], div, div_of)
    p.raise_if_any()
    agency_rows = [r for r in rows if acc_of[r.account] == agency_id]
    by_code: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in agency_rows:
        by_code[r.account][r.file].append(r.row)
    for code in sorted(by_code):
        hits = [t for t in cats if t.matches(code)]
        if len(hits) == 1:
            cat_of[code] = hits[0].id
            continue
        f0 = next(iter(by_code[code]))
        p.add(
            f0,
            f"agency account code {code} belongs to "
            + ("no agency category" if not hits else "two agency categories")
            + f" (rows {_rows_text(by_code[code][f0], 80)})",
            value=code,
            allowed="add it to the codes of exactly one of agency.categories",
        )
    p.raise_if_any()
    ignored: dict[tuple[str, int], str] = {}
    for r in rows:
        path = ignored_by.get(f"a:{r.account}") or ignored_by.get(f"u:{r.unit}")
        if path:
            ignored[(r.file, r.row)] = path
    return acc_of, div_of, cat_of, ignored
