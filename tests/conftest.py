"""Shared fixtures: the shipped case, the tiny hand-checkable case, and a runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from balans import DEFAULT_CASE_DIR, get_engine, load_case, parse_scenario, run

TESTS = Path(__file__).parent
REPO = TESTS.parent
TINY = TESTS / "cases" / "tiny"
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="session")
def case():
    return load_case(DEFAULT_CASE_DIR)


@pytest.fixture(scope="session")
def engine(case):
    return get_engine(case)


@pytest.fixture(scope="session")
def tiny_engine():
    return get_engine(TINY)


@pytest.fixture
def run_tiny():
    """``run_tiny({...levers...})`` -> Result on the tiny case."""

    def _run(levers: dict | None = None, **extra):
        return run(parse_scenario({"name": "test", "levers": levers or {}, **extra}), TINY)

    return _run


@pytest.fixture
def case_copy(tmp_path):
    """A writable copy of the shipped case, to break on purpose."""
    dst = tmp_path / "case"
    shutil.copytree(DEFAULT_CASE_DIR, dst)
    return dst


def by_year(result, column: str, year: int) -> float:
    years = result.years_frame().set_index("year")
    return float(years.loc[year, column])


def step(result, name: str, year: int) -> float:
    b = result.bridge_frame()
    return float(b[(b.step == name) & (b.year == year)].effect_mkr.iloc[0])
