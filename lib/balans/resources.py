"""Files that ship inside the package: the shipped case, its scenarios, the faces' notebooks.

Everything a face reads by default is package data, found through
:func:`importlib.resources.files`, so that ``pip install .`` (not editable) and ``balans run``
from any folder work without the checkout. In the checkout the familiar paths are symlinks
into the package (``data -> lib/balans/data``, ``scenarios -> lib/balans/data/rjh_hsn/scenarios``,
``notebooks/app.ipynb`` and ``notebooks/report.ipynb``).

Package layout::

    balans/data/README.md             what every column of a case means
    balans/data/rjh_hsn/              the shipped case (case.yaml, *.csv)
    balans/data/rjh_hsn/scenarios/    its scenario files (a case may hold a scenarios/ folder)
    balans/notebooks/app.ipynb        the Voilà app (balans app)
    balans/notebooks/report.ipynb     the papermill report (balans batch)

The functions return real paths: the faces hand them to Voilà, papermill and ``open``. A wheel
installs as files, so that is the package's own folder; should the package ever be imported
from a zip archive, the resource is extracted once to a temporary folder that lives as long
as the process.
"""

from __future__ import annotations

import atexit
import tempfile
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

SHIPPED_CASE = "rjh_hsn"
SCENARIOS = "scenarios"  # the folder of scenario files inside a case folder

_extracted = ExitStack()
atexit.register(_extracted.close)


def _copy_tree(src: Traversable, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_dir():
            _copy_tree(item, dst / item.name)
        else:
            (dst / item.name).write_bytes(item.read_bytes())


@cache
def package_path(*parts: str) -> Path:
    """A real filesystem path to ``balans/<parts...>`` (a file or a folder)."""
    res = files("balans").joinpath(*parts)
    if isinstance(res, Path):  # installed as files (a wheel, an editable install, the checkout)
        return res
    if res.is_file():  # e.g. a zip import: as_file extracts a file for as long as we keep it
        return _extracted.enter_context(as_file(res))
    if res.is_dir():  # as_file takes folders only from Python 3.12: copy the tree ourselves
        tmp = Path(_extracted.enter_context(tempfile.TemporaryDirectory(prefix="balans-")))
        _copy_tree(res, tmp / res.name)
        return tmp / res.name
    raise FileNotFoundError(f"balans/{'/'.join(parts)}: not in the installed package")


def shipped_case_dir() -> Path:
    """The shipped case's folder (``balans/data/rjh_hsn``)."""
    return package_path("data", SHIPPED_CASE)


def scenarios_dir(case_dir: str | Path | None = None) -> Path:
    """The scenario files of a case: ``<case>/scenarios`` (default: the shipped case's)."""
    return Path(case_dir if case_dir is not None else shipped_case_dir()) / SCENARIOS


def notebook(name: str) -> Path:
    """A notebook a face executes, by name: ``notebook("app")`` or ``notebook("report.ipynb")``."""
    return package_path("notebooks", name if name.endswith(".ipynb") else f"{name}.ipynb")


__all__ = ["notebook", "package_path", "scenarios_dir", "shipped_case_dir"]
