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
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        msg = f"{where}: {problem}"
        if value is not None:
            msg += f" (value: {value!r})"
        if allowed:
            msg += f"; allowed: {allowed}"
        super().__init__(msg)


class ScenarioError(BalansError):
    """A scenario file is wrong. ``problems`` lists (field path, value, message)."""

    def __init__(self, file: str, problems: list[tuple[str, object, str]]) -> None:
        self.file = file
        self.problems = problems
        if len(problems) == 1 and not problems[0][0] and problems[0][1] is _MISSING:
            super().__init__(f"{file}: {problems[0][2]}")
            return
        lines = [f"{file}: the scenario is not valid"]
        for path, value, message in problems:
            shown = "" if value is _MISSING else f" = {value!r}"
            lines.append(f"  - {path or '(top level)'}{shown}: {message}")
        super().__init__("\n".join(lines))


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - only for debugging
        return "<missing>"


_MISSING = _Missing()
MISSING = _MISSING
