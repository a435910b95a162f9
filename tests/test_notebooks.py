"""Every notebook executes headless without error, and is committed without outputs."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                f"{path.name} has outputs"
            )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    # allow_errors: every cell runs and the assertion below names each failing cell (without
    # it the client raises at the first error and the assertion could never fail)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    errors = [
        f"{o.ename}: {o.evalue}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []
    out = REPO / "build" / "notebooks" / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)


@pytest.mark.slow
def test_the_workbench_runs_on_another_case_chosen_in_its_first_cell():
    """The planners' workbench on Region Exempel (a three-year ledger case): the first code
    cell names the case, and every cell after it follows that case's years and scenarios."""
    path = REPO / "notebooks" / "workbench.ipynb"
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    first.source = f'CASE = "{REPO / "tests" / "cases" / "exempel"}"'
    # allow_errors: every cell runs and the assertion below names each failing cell (without
    # it the client raises at the first error and the assertion could never fail)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    errors = [
        f"{o.ename}: {o.evalue}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []
    text = "".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "Region Exempel" in text and "2027" in text
    assert "Jämtland" not in text
    out = REPO / "build" / "notebooks" / "workbench_exempel.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
