"""``balans import``: build a ledger case folder from a region's ledger exports.

A controller has monthly ledger exports (huvudbok: one row per month x account x unit, with
the actual and the budget), perhaps an hours export for agency staff, a staff export and a
multi-year plan. A *mapping file* names those files, says how they are written, and maps the
region's account codes to Balans accounts and its unit codes (ansvar) to divisions.
:func:`import_ledger` reads them and writes the case folder of ``spec_ledger_case.md``.

The rooms, in the order an import goes through them:

- :mod:`.command`: :func:`import_ledger`, the entry ``balans import`` calls.
- :mod:`.mapping`: the mapping file: its schema, loading it, and its own checks.
- :mod:`.codes`: code entries and ranges (Region-Bas), overlaps, which target a code is.
- :mod:`.read`: reading an export: encodings, CSV dialects, xlsx, columns, ledger rows.
- :mod:`.values`: what a cell holds: months, amounts, code cells; kronor as written.
- :mod:`.tables`: building the case's tables: ledger cells, budget plan, agency, staff, figures.
- :mod:`.checks`: parameters and scenarios; reconciling the written folder; loading it back.
- :mod:`.write`: the case folder's files, written whole or not at all (:mod:`balans.atomic`).
- :mod:`.messages`: the problems it reports (up to 20 of a file together) and its report.
"""

from balans.inputs.ledger_import.command import import_ledger
from balans.inputs.ledger_import.mapping import TEMPLATE_DIR, load_mapping, mapping_schema
from balans.inputs.ledger_import.values import parse_month, parse_number

__all__ = [
    "TEMPLATE_DIR",
    "import_ledger",
    "load_mapping",
    "mapping_schema",
    "parse_month",
    "parse_number",
]
