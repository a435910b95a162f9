"""Import-time savings that every face shares (the CLI, the app's kernels, the report).

Imported first by ``balans/__init__.py``.
"""

from __future__ import annotations

import importlib.util
import sys
import types


def _defer_rfc3987_syntax() -> None:
    """Import ``rfc3987_syntax`` only when an IRI is actually checked.

    altair imports jsonschema, which imports ``rfc3987_syntax`` for its "iri" format; that
    module builds an Earley parser at import time, 2.6 s of the 3.5 s it takes a fresh
    kernel to import this module (measured with ``python -X importtime``). Neither altair
    nor Balans checks IRIs, so a stand-in module takes its place and loads the real parser
    on the first call: same behaviour, the cost moves to a call that never happens."""
    name = "rfc3987_syntax"
    if name in sys.modules or "jsonschema" in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return

    def is_valid_syntax(term: str, value: str) -> bool:
        from rfc3987_syntax.syntax_helpers import is_valid_syntax as real

        return bool(real(term, value))

    stub = types.ModuleType(name, "Deferred by balans: the parser loads on first use.")
    stub.__path__ = list(spec.submodule_search_locations)
    stub.__spec__ = spec
    stub.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[name] = stub


_defer_rfc3987_syntax()
