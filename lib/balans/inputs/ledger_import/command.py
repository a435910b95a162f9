"""The entry of ``balans import``: :func:`import_ledger`, which ``balans.faces.cli`` calls.

It checks the output folder first (so that a mistake costs nothing), reads and checks the
mapping (:mod:`.mapping`), reads the exports and builds the case's tables
(:mod:`.tables`), and writes the folder whole or not at all (:mod:`.write`). It returns
an :class:`~.messages.ImportReport`, whose ``text()`` the command prints; bad input is a
:class:`~balans.errors.DataError` and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from balans.inputs.ledger_import.mapping import load_mapping
from balans.inputs.ledger_import.messages import ImportReport
from balans.inputs.ledger_import.tables import _build
from balans.inputs.ledger_import.write import _check_out, _write_folder


def import_ledger(
    mapping_path: str | Path,
    out_dir: str | Path,
    *,
    force: bool = False,
    parameters: str | Path | None = None,
) -> ImportReport:
    """Read the exports a mapping names and write the ledger case folder ``out_dir``.

    ``parameters`` overrides the mapping's parameters file. Raises a
    :class:`~balans.errors.DataError` (never writes anything) on bad input.
    """
    mapping_path = Path(mapping_path)
    out = Path(out_dir).absolute()
    _check_out(out, force, str(out_dir))
    m = load_mapping(mapping_path)
    base = mapping_path.parent
    built = _build(m, base, str(mapping_path), parameters)
    report = built.report
    report.out_dir = Path(out_dir)
    _write_folder(out, force, m, built, mapping_path)
    return report
