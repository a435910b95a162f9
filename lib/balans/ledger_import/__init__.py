"""``balans import``: build a ledger case folder from a region's ledger exports.

The rooms are described in the modules; this package exports only what the rest of
Balans and the tests use.
"""

from .tables import (
    TEMPLATE_DIR,
    import_ledger,
    load_mapping,
    mapping_schema,
    parse_month,
    parse_number,
)

__all__ = [
    "TEMPLATE_DIR",
    "import_ledger",
    "load_mapping",
    "mapping_schema",
    "parse_month",
    "parse_number",
]
