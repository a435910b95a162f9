"""Property tests: whatever a scenario file or a command line holds, Balans answers.

For every generated input the command line (called in-process, ``balans.faces.cli.main``) either
exits 0 with finite figures (no NaN, no null where a figure belongs, no "– mkr") or exits 2
with a message under 2 kB that names the file (and, for a scenario, the field or line);
never a traceback, never another exit code. ``BALANS_TRACEBACK=1`` is set, so a bug shows
as its traceback here, not as the one-line message a user gets.

Kinds of generated input, each counted (``build/fuzz_counts.json``, printed at the end):

- ``scenario_structured``: scenario files built from the scenario model's own fields, with
  values in range, out of range, NaN, infinity, true/false, text, lists, mappings, huge
  numbers, unknown keys;
- ``scenario_text``: a valid scenario file's text with YAML's special characters, anchors,
  aliases, tabs, a byte-order mark, bytes that are not UTF-8, cut or inserted at random;
- ``command_line``: argument lists for ``run``, ``goal-seek``, ``schema``, ``vintages`` and
  ``batch`` (the batch always with a missing notebook, so no kernel starts);
- ``yaml_text``: arbitrary text through the bounded YAML loader;
- ``mapping_file``, ``case_yaml``: the import's mapping file and a case's ``case.yaml``,
  damaged the same way, through their readers.

``BALANS_FUZZ_EXAMPLES=5000`` runs each property longer, to hunt.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from balans import DEFAULT_CASE_DIR
from balans.errors import BalansError
from balans.faces.cli import main
from balans.inputs import yamlsafe
from balans.inputs.scenario import Levers, load_scenario

COUNTS: dict[str, Counter] = {}
EXAMPLES = int(os.environ.get("BALANS_FUZZ_EXAMPLES", "200"))  # more, to hunt: 5000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CASE_MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    """Write and print how many inputs of each kind were tried, and how they ended."""
    old = os.environ.get("BALANS_TRACEBACK")
    os.environ["BALANS_TRACEBACK"] = "1"
    yield
    if old is None:
        os.environ.pop("BALANS_TRACEBACK", None)
    else:  # pragma: no cover
        os.environ["BALANS_TRACEBACK"] = old
    counts = {kind: dict(sorted(c.items())) for kind, c in sorted(COUNTS.items())}
    for c in counts.values():
        c["tried"] = sum(c.values())
    out = REPO / "build" / "fuzz_counts.json"
    with contextlib.suppress(OSError):
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(counts, indent=1) + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    line = "generated inputs tried: " + "; ".join(
        f"{kind} {c['tried']} ({', '.join(f'{k} {v}' for k, v in c.items() if k != 'tried')})"
        for kind, c in counts.items()
    )
    if reporter is not None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"\n{line} -> {out}")


def count(kind: str, outcome: str) -> None:
    COUNTS.setdefault(kind, Counter())[outcome] += 1


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A scratch folder, also the working folder (a relative name in a generated argument
    lands here), with a file where a folder is expected and a folder named x.yaml."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    (root / "folder.yaml").mkdir()
    (root / "nan.yaml").write_text("name: x\nlevers: {realisation_pct: .nan}\n", "utf-8")
    cwd = Path.cwd()
    os.chdir(root)
    yield root
    os.chdir(cwd)


def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def nulls(data: Any, where: str = "", allowed: tuple[str, ...] = ()) -> list[str]:
    """The paths in ``data`` that hold null (a NaN or infinity, written by json_safe), other
    than those under a key in ``allowed`` (the scenario echoed back, an unreachable goal)."""
    if data is None:
        return [where]
    if isinstance(data, float) and not math.isfinite(data):
        return [where]
    if isinstance(data, dict):
        return [
            p
            for k, v in data.items()
            if k not in allowed
            for p in nulls(v, f"{where}.{k}", allowed)
        ]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in nulls(v, f"{where}[{i}]", allowed)]
    return []


def check_answer(kind: str, argv: list[str], code: int, out: str, err: str, file: str | None):
    """Exit 0 with finite figures, or exit 2 with a short message naming the file."""
    assert "Traceback" not in err, err
    assert code in (0, 2), f"exit {code} for {argv}:\n{err[:3000]}"
    if code == 0:
        count(kind, "exit 0")
        if "--json" in argv and argv[0] in ("run", "goal-seek"):
            allowed = ("scenario",)  # the scenario echoed back: its unset fields
            if argv[0] == "goal-seek":
                allowed += ("value", "values")  # an unreachable goal has no value
            bad = nulls(json.loads(out), allowed=allowed)
            assert not bad, f"null where a figure belongs: {bad[:10]} for {argv}"
        else:
            # fmt.number writes a NaN as "–": "– mkr", "– %"; a Python float as nan or inf
            shown = re.search(r"(–|\bnan|\binf)\s?(mkr|%|årsarbetare|kr)", out, flags=re.IGNORECASE)
            assert not shown, f"a figure that is not a number ({shown[0]!r}) in:\n{out}"
        return
    count(kind, "exit 2")
    assert err.startswith("balans: ") or "usage: balans" in err, err
    assert len(err.encode()) < 2048 + 400 * ("usage:" in err), len(err)
    if file is not None and "usage:" not in err:
        assert file[:200] in err, f"the message does not name {file[:80]}...:\n{err}"


# --------------------------------------------------------------------------- scenario files

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(0, 3), max_size=2),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "", "true", "12", "2024-01", "x" * 500]),
)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy = JUNK) -> st.SearchStrategy:
    """``good`` five times in six, else ``bad``: one junk value in a file is enough to refuse
    it, so junk everywhere would leave the valid files (and their figures) untried."""
    return st.sampled_from([good] * 5 + [bad]).flatmap(lambda chosen: chosen)


BAD_NUMBERS = st.sampled_from(
    [math.nan, math.inf, -math.inf, True, False, 1e308, -1e308, "nan", "inf", "", None]
)


def number(lo: float | None, hi: float | None) -> st.SearchStrategy:
    """A number in ``lo``..``hi`` five times in six, else one outside it, NaN, infinity,
    true/false, text, or junk."""
    lo_, hi_ = (-1000.0 if lo is None else lo), (1000.0 if hi is None else hi)
    inside = st.one_of(
        st.floats(lo_, hi_, allow_nan=False), st.integers(math.ceil(lo_), math.floor(hi_))
    )
    outside = st.one_of(
        BAD_NUMBERS,
        BAD_NUMBERS,
        st.sampled_from([lo_ - 1, hi_ + 1, lo_ - 1e-9, hi_ + 1e-6]),
        st.floats(allow_nan=True, allow_infinity=True),
        JUNK,
    )
    return mostly(inside, outside)


def month() -> st.SearchStrategy:
    bad = st.sampled_from(["2024-13", "2031-01", "1999-12", "2024-1", "202401", "2024-01-15"])
    return mostly(st.sampled_from(CASE_MONTHS), st.one_of(bad, JUNK))


def _bounds(field: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


def model_dict(model: type, depth: int = 0) -> st.SearchStrategy:
    """A mapping for ``model``: up to three of its fields, each with a value that is mostly
    of the field's kind (read from the model, so a new lever is fuzzed too), sometimes junk,
    sometimes with a key the model does not know."""
    fields = {name: field_value(name, f, depth) for name, f in model.model_fields.items()}
    unknown = st.dictionaries(st.text(min_size=1, max_size=8), JUNK, max_size=1)

    @st.composite
    def build(draw) -> dict[str, Any]:
        names = draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True))
        out = {name: draw(fields[name]) for name in names}
        if draw(st.integers(0, 9)) == 0:
            out |= draw(unknown)
        return out

    return build()


def field_value(name: str, field: Any, depth: int) -> st.SearchStrategy:
    from balans.inputs.scenario import _unwrap

    inner = _unwrap(field.annotation)
    text = str(field.annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel) and depth < 3:
        sub = model_dict(inner, depth + 1)
        if "list[" in text:
            return st.one_of(st.lists(sub, max_size=3), JUNK)
        return mostly(sub)
    if name == "start" or "pattern" in repr(field.metadata):
        return month()
    if name == "pay_revision_pct":
        years = st.one_of(
            st.sampled_from([2023, 2024, "2024", 2030]),
            st.sampled_from([2023.7, True, "x", None]),
        )
        return st.one_of(number(0, 10), st.dictionaries(years, number(0, 10), max_size=3))
    if name == "categories":
        cats = st.one_of(st.sampled_from(["doctors", "nurses", "other"]), st.text(max_size=6))
        return st.dictionaries(cats, number(-100, 50), max_size=3)
    if name == "division":
        return mostly(st.sampled_from(["kirurgi", "medicin", "nara_vard", "stab"]))
    if name == "account":
        return mostly(st.sampled_from(["other_costs", "drugs", "personnel", "sales"]))
    if "float" in text or "int" in text:
        return number(*_bounds(field))
    return mostly(st.text(min_size=1, max_size=30))


def _assumption_ranges() -> dict[str, tuple[float | None, float | None]]:
    from balans import load_case
    from balans.model.engine import Engine

    params = load_case(DEFAULT_CASE_DIR).parameters
    return {k: (params[k].low, params[k].high) for k in Engine.ASSUMPTION_FIELDS if k in params}


ASSUMPTIONS = _assumption_ranges()
ASSUMPTION = st.sampled_from(sorted(ASSUMPTIONS)).flatmap(
    lambda k: st.tuples(st.just(k), number(*ASSUMPTIONS[k]))
)
SCENARIOS = st.fixed_dictionaries(
    {"name": mostly(st.text(min_size=1, max_size=40))},
    optional={
        "description": mostly(st.text(max_size=40)),
        "levers": mostly(model_dict(Levers)),
        "assumptions": mostly(
            st.lists(
                mostly(ASSUMPTION, st.tuples(st.text(max_size=6), number(0, 100))), max_size=2
            ).map(dict)
        ),
    },
)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@FUZZ
@given(data=SCENARIOS, json_out=st.booleans())
def test_any_scenario_file_gives_figures_or_a_short_message(place, data, json_out):
    path = place / "generated.yaml"
    path.write_text(dump(data), encoding="utf-8")
    argv = ["run", str(path)] + ["--json"] * json_out
    code, out, err = call(argv)
    check_answer("scenario_structured", argv, code, out, err, str(path))
    if code == 0:  # nothing was coerced: every number read is a number the file wrote
        read = leaves(load_scenario(path).model_dump(exclude_none=True))
        written = leaves(data)
        for where, value in read.items():
            if isinstance(value, int | float):
                assert where in written, f"{where} = {value} read, not in the file: {data}"
                given_ = written[where]
                assert not isinstance(given_, bool), f"{where}: {given_} read as {value}"
                assert float(given_) == value, f"{where}: {given_!r} read as {value}"


def leaves(data: Any, where: str = "") -> dict[str, Any]:
    """``{"levers.agency.change_pct": -50, ...}``: every value that is not a mapping or list."""
    if isinstance(data, dict):
        return {p: v for k, x in data.items() for p, v in leaves(x, f"{where}.{k}").items()}
    if isinstance(data, list):
        return {p: v for i, x in enumerate(data) for p, v in leaves(x, f"{where}[{i}]").items()}
    return {where: data}


SPECIAL = st.sampled_from(
    [
        "&a ",
        "*a",
        "*b",
        "<<: *a\n",
        "? ",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "- ",
        "!!str ",
        "!!python/object:os.system ",
        "!!binary ",
        "\t",
        "\n",
        "  ",
        "#",
        "'",
        '"',
        "|",
        ">",
        "%YAML 1.2\n",
        "---\n",
        "...\n",
        ".nan",
        ".inf",
        "true",
        "~",
        "2024-13-45",
        "0x" + "f" * 40,
        "1e400",
        "\ufeff",
        "\x00",
        "\x85",
        "é",
    ]
)
HOSTILE_BLOCKS = st.sampled_from(  # each was a traceback or gigabytes of output (issue 13)
    [
        "? [a, b]\n: 1\n",
        "? {a: 1}\n: 1\n",
        "deep: " + "[" * 60 + "]" * 60 + "\n",
        "loop: &l [*l]\n",
        "a0: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        + "".join(
            f"a{i + 1}: &{'a' * (i + 2)} [{', '.join(['*' + 'a' * (i + 1)] * 10)}]\n"
            for i in range(5)
        ),
    ]
)
BASE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted((REPO / "scenarios").glob("*.yaml"))]


@st.composite
def mutated_text(draw) -> bytes:
    text = draw(st.sampled_from(BASE_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):  # at a line's start: a whole new key or block
            at = text.rfind("\n", 0, at) + 1
        action = draw(st.sampled_from(["insert", "insert", "cut", "replace"]))
        piece = draw(st.one_of(SPECIAL, HOSTILE_BLOCKS, st.text(max_size=3)))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # bytes that are not UTF-8
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe4\x80"])) + data[at:]
    return data


@FUZZ
@given(data=mutated_text(), json_out=st.booleans())
def test_any_damaged_scenario_text_gives_figures_or_a_short_message(place, data, json_out):
    path = place / "damaged.yaml"
    path.write_bytes(data)
    argv = ["run", str(path)] + ["--json"] * json_out
    code, out, err = call(argv)
    check_answer("scenario_text", argv, code, out, err, str(path))


# --------------------------------------------------------------------------- command lines

GOOD = str(REPO / "scenarios" / "hyrstopp.yaml")


def path_choice(place: Path) -> st.SearchStrategy:
    return st.sampled_from(
        [
            GOOD,
            "hyrstopp",
            "baseline",
            "nosuchscenario",
            str(place / "missing.yaml"),
            str(place / "folder.yaml"),
            str(place / "nan.yaml"),
            str(place / "afile" / "x.yaml"),
            str(place / ("n" * 300 + ".yaml")),
            "",
        ]
    )


def write_choice(place: Path) -> st.SearchStrategy:
    """Only places inside the scratch folder: a generated --save must not write elsewhere."""
    return st.sampled_from(
        [
            str(place / "saved.yaml"),
            str(place / "sub" / "saved.yaml"),
            str(place / "folder.yaml"),
            str(place / "afile" / "x.yaml"),
            str(place / ("s" * 300 + ".yaml")),
            str(place),
        ]
    )


def text_arg() -> st.SearchStrategy:
    return st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
    )


@st.composite
def command_line(draw, place: Path) -> list[str]:
    command = draw(
        st.sampled_from(["run", "run", "goal-seek", "goal-seek", "schema", "vintages", "batch"])
    )
    argv = [command]
    opts: dict[str, st.SearchStrategy] = {
        "--case": st.one_of(
            st.sampled_from(
                [str(DEFAULT_CASE_DIR), str(TINY), str(place / "afile"), str(place / "no")]
            ),
            text_arg(),
        ),
        "--lang": st.one_of(st.sampled_from(["sv", "en", "xx", "SV"]), text_arg()),
        "--cutoff": st.one_of(
            st.sampled_from(["2023-04", "2023-08", "2024-13", "1999-01", "2024-4"]), text_arg()
        ),
    }
    flags = ["--json"]
    if command in ("run", "goal-seek"):
        argv.append(draw(st.one_of(path_choice(place), text_arg())))
    if command == "goal-seek":
        opts |= {
            "--lever": st.one_of(
                st.sampled_from(
                    [
                        "realisation_pct",
                        "measures.mkr_per_year",
                        "staffing_reduction.target_pct",
                        "agency.change_pct",
                        "drug_cost_growth_pct,price_growth_pct",
                        "nope",
                        ",",
                    ]
                ),
                text_arg(),
            ),
            "--year": st.one_of(
                st.sampled_from(["2023", "2024", "2030", "2024.5", "-1", "9" * 30]), text_arg()
            ),
            "--target": st.one_of(
                st.sampled_from(["0", "-25", "40", "nan", "inf", "-inf", "1e309", "1e300"]),
                text_arg(),
            ),
            "--save": write_choice(place),
        }
        # the required ones, most of the time
        for req in ("--lever", "--year"):
            if draw(st.integers(0, 5)):
                argv += [req, draw(opts[req])]
    if command == "schema":
        argv += draw(st.lists(st.sampled_from(["scenario", "mapping", "other"]), max_size=1))
        opts = {"--indent": st.sampled_from(["0", "2", "-1", "x", "1.5"])}
        flags = []
    if command == "vintages":
        opts = {k: v for k, v in opts.items() if k in ("--case", "--lang")}
    if command == "batch":
        argv += draw(st.lists(path_choice(place), max_size=2))
        opts |= {
            "--out": write_choice(place),
            "--jobs": st.sampled_from(["1", "0", "-3", "two", "1.5"]),
        }
        flags = ["--force", "--quiet"]
    for name in draw(st.lists(st.sampled_from(sorted(opts)), max_size=4, unique=True)):
        value = draw(opts[name])
        argv += [f"{name}={value}"] if value.startswith("-") else [name, value]
    argv += [f for f in flags if draw(st.booleans())]
    if command == "batch":  # never start a kernel: the report notebook does not exist
        argv += ["--notebook", str(place / "no-notebook.ipynb")]
    if draw(st.integers(0, 14)) == 0:  # an option of no command
        argv.insert(draw(st.integers(1, len(argv))), draw(st.sampled_from(["--bogus", "-x"])))
    return argv


@settings(FUZZ, max_examples=EXAMPLES * 5 // 4)
@given(data=st.data())
def test_any_command_line_gives_figures_or_a_short_message(place, data):
    argv = data.draw(command_line(place))
    code, out, err = call(argv)
    file = (
        argv[1]
        if argv[0] in ("run", "goal-seek") and err.startswith(f"balans: {argv[1]}")
        else None
    )
    check_answer("command_line", argv, code, out, err, file)
    assert (place / "afile").read_text(encoding="utf-8") == "a file, not a folder\n"


# --------------------------------------------------------------------------- YAML readers


@FUZZ
@given(
    text=st.one_of(
        mutated_text().map(lambda b: b.decode("utf-8", "replace")),
        st.text(st.sampled_from(list("ab:-[]{}&*?!|>#'\"\n\t ,.01~")), max_size=60),
    )
)
def test_the_bounded_yaml_loader_raises_only_its_own_problem(text):
    try:
        yamlsafe.load(text)
    except yamlsafe.YamlProblem as exc:
        count("yaml_text", "refused")
        assert len(str(exc)) < 400
    else:
        count("yaml_text", "read")


@pytest.fixture(scope="module")
def case_and_mapping(tmp_path_factory):
    root = tmp_path_factory.mktemp("readers")
    case = root / "case"
    shutil.copytree(DEFAULT_CASE_DIR, case)
    shutil.copytree(REPO / "examples" / "exempel_region", root / "exempel")
    return case, case.joinpath("case.yaml").read_text("utf-8"), root / "exempel" / "mapping.yaml"


def damage(data: Any, text: str) -> str:
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()):
            at = text.rfind("\n", 0, at) + 1
        piece = data.draw(st.one_of(SPECIAL, HOSTILE_BLOCKS, st.text(max_size=3)))
        text = text[:at] + piece + text[at:]
    return text


@settings(FUZZ, max_examples=EXAMPLES // 2)
@given(data=st.data())
def test_a_damaged_mapping_file_gives_a_data_error(case_and_mapping, data):
    from balans.inputs.ledger_import import load_mapping

    mapping = case_and_mapping[2]
    target = mapping.parent / "fuzz_mapping.yaml"
    target.write_text(damage(data, mapping.read_text("utf-8")), "utf-8", errors="surrogatepass")
    try:
        load_mapping(target)
        count("mapping_file", "read")
    except BalansError as exc:
        count("mapping_file", "refused")
        assert str(exc).startswith(str(target)) and len(str(exc)) < 2048, str(exc)


@settings(FUZZ, max_examples=EXAMPLES // 2)
@given(data=st.data())
def test_a_damaged_case_yaml_gives_a_data_error(case_and_mapping, data):
    from balans.inputs.case import load_case

    case, case_text, _ = case_and_mapping
    target = case / "case.yaml"
    try:
        target.write_text(damage(data, case_text), encoding="utf-8", errors="surrogatepass")
        load_case(case)
        count("case_yaml", "read")
    except BalansError as exc:
        count("case_yaml", "refused")
        # the file itself, or (a case.yaml still YAML) the case file its changed value names
        assert str(case) in str(exc) and len(str(exc)) < 2048, str(exc)
    finally:
        target.write_text(case_text, encoding="utf-8")
