"""The errors Balans raises for bad input.

Every error a user can cause is a :class:`BalansError`. Its message names the file, the
place in it (row and column, or the field path), the value and what is allowed, so that
the command line and the apps can show it as it is, without a traceback.

- :class:`DataError`: a case folder (``data/…``) is missing a file, has a bad value, or does
  not reconcile to the documents' own totals.
- :class:`ScenarioError`: a scenario file is not valid YAML, has an unknown key, or a value
  out of range.
"""

from __future__ import annotations

import reprlib

SHOWN_CHARS = 80
"""A value quoted in a message is cut to this many characters (with an ellipsis)."""
MESSAGE_CHARS = 2000
"""No message is longer: a file can be written to make any echo of it huge."""
PROBLEMS_SHOWN = 10
"""A scenario's message lists at most this many problems, then says how many more."""


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis: a value in a message is
    quoted, never echoed whole (a 600-byte YAML file can stand for gigabytes of data)."""
    r = reprlib.Repr()
    r.maxstring = r.maxother = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 6
    r.maxlevel = 3
    text = r.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BalansError(Exception):
    """Bad input a user can fix. ``str(err)`` is the whole message."""


class DataError(BalansError):
    """A case folder's file, row, column or value is wrong."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        allowed: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.value, self.allowed = (
            file,
            row,
            column,
            value,
            allowed,
        )
        self.problem = problem
        self.problems: tuple[DataError, ...] = (self,)
        self.skipped: tuple[str, ...] = ()
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        msg = f"{cut(where, 300)}: {cut(problem, 1000)}"
        if value is not None:
            msg += f" (value: {shown(value)})"
        if allowed:
            msg += f"; allowed: {cut(allowed, 500)}"
        super().__init__(msg)

    @classmethod
    def every(
        cls, folder: str, problems: list[DataError], skipped: list[str] | tuple[str, ...] = ()
    ) -> DataError:
        """One error naming every problem of a case folder at once.

        Each problem keeps its own text (file, row, column, value, allowed); one problem and
        nothing skipped reads exactly as that problem alone. ``skipped`` names the rules not
        checked because a file they read had problems. The error's ``file``, ``row``,
        ``column``, ``value`` and ``allowed`` are the first problem's; ``problems`` lists all.
        """
        first = problems[0]
        err = cls.__new__(cls)
        err.file, err.row, err.column, err.value, err.allowed = (
            first.file,
            first.row,
            first.column,
            first.value,
            first.allowed,
        )
        err.problem = first.problem
        err.problems = tuple(q for p in problems for q in _each(p))
        err.skipped = tuple(skipped)
        if len(err.problems) == 1 and not skipped:
            Exception.__init__(err, str(first))
            return err
        n = len(err.problems)
        files = len({q.file for q in err.problems})
        if n == 1:  # one problem reads as itself, the rules it kept from checking below
            lines = [cut(str(first), 1000)]
        else:
            head = f"{cut(folder, 300)}: {n} problems" + (f" in {files} files" if files > 1 else "")
            lines = [head] + [f"  - {cut(str(q), 400)}" for q in err.problems[:PROBLEMS_SHOWN]]
        if n > PROBLEMS_SHOWN:
            lines.append(f"  ... and {n - PROBLEMS_SHOWN} more problems")
        if skipped:
            lines.append("  not checked, since a file they read has problems:")
            lines += [f"  - {cut(s, 200)}" for s in skipped[:PROBLEMS_SHOWN]]
            if len(skipped) > PROBLEMS_SHOWN:
                lines.append(f"  ... and {len(skipped) - PROBLEMS_SHOWN} more rules")
        Exception.__init__(err, cut("\n".join(lines)))
        return err


def _each(err: DataError) -> tuple[DataError, ...]:
    """The single problems an error holds (a :class:`DataProblems` is one, as its text)."""
    inner = tuple(q for q in getattr(err, "problems", ()) if isinstance(q, DataError))
    return inner or (err,)


class DataProblems(DataError):
    """Several problems in one case file, all named at once (the first one's place is the
    error's ``column`` and ``value``). ``problems`` lists (place, value, problem, allowed)."""

    def __init__(self, file: str, problems: list[tuple[str, object, str, str]]) -> None:
        first = problems[0]
        super().__init__(file, first[2], column=first[0], value=first[1], allowed=first[3])
        self.problems = problems
        if len(problems) == 1:
            return
        lines = [f"{cut(file, 300)}: {len(problems)} problems"]
        for place, value, problem, allowed in problems[:PROBLEMS_SHOWN]:
            quoted = "" if value is None else f" = {shown(value)}"
            extra = f"; allowed: {cut(allowed, 200)}" if allowed else ""
            lines.append(f"  - {cut(place, 120)}{quoted}: {cut(problem, 300)}{extra}")
        if len(problems) > PROBLEMS_SHOWN:
            lines.append(f"  ... and {len(problems) - PROBLEMS_SHOWN} more problems")
        self.args = (cut("\n".join(lines)),)

    def __str__(self) -> str:
        return str(self.args[0])


class ScenarioError(BalansError):
    """A scenario file is wrong. ``problems`` lists (field path, value, message)."""

    def __init__(self, file: str, problems: list[tuple[str, object, str]]) -> None:
        self.file = file
        self.problems = problems
        name = cut(file, 300)
        if len(problems) == 1 and not problems[0][0] and problems[0][1] is _MISSING:
            super().__init__(f"{name}: {cut(problems[0][2], 1000)}")
            return
        lines = [f"{name}: the scenario is not valid"]
        for path, value, message in problems[:PROBLEMS_SHOWN]:
            quoted = "" if value is _MISSING else f" = {shown(value)}"
            lines.append(f"  - {cut(path or '(top level)', 120)}{quoted}: {cut(message, 400)}")
        if len(problems) > PROBLEMS_SHOWN:
            lines.append(f"  ... and {len(problems) - PROBLEMS_SHOWN} more problems")
        super().__init__(cut("\n".join(lines)))


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - only for debugging
        return "<missing>"


_MISSING = _Missing()
MISSING = _MISSING
