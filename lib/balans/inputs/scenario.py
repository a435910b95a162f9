"""Scenario files: a YAML file that states only the levers it moves from the baseline.

A file with only ``name:`` is the baseline. Every lever is optional; a lever that is present
but leaves a field out takes that field's default from the case's ``parameters.csv`` (where
the default has a source) or from the model below (conventions: start = the first forecast
month, ramp = 0 months). The format::

    name: Hyrstopp med återrekrytering
    description: Fritext som visas i appen och rapporten.
    levers:
      staffing_reduction: {target_pct: 6, start: 2024-01, ramp_months: 12}
      agency: {change_pct: -50, start: 2024-02,
               replacement: {own_staff_pct: 40, purchased_care_pct: 20, not_replaced_pct: 40}}
      drug_cost_growth_pct: 10
      rest_rule: {start: 2023-10, extra_need_pct: 3, weekend_mitigation_pct: 30}
      realisation_pct: 100
      pay_revision_pct: 4.1
      measures: [{name: Inköp, mkr_per_year: 100, start: 2024-01}]

Validation happens when the file is read: unknown keys and out-of-range values raise a
:class:`~balans.errors.ScenarioError` that names the file, the field path, the value and
the allowed range. ``json_schema()`` gives the JSON Schema for editors (``balans schema``).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import math
import re
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from balans.atomic import write_text_atomic
from balans.errors import MISSING, BalansError, ScenarioError, cut, shown
from balans.inputs import yamlsafe
from balans.model.levers import MAX_MEASURES, field, lever

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="A month, YYYY-MM.")]


def _numeric(annotation: Any) -> str | None:
    """``"number"`` for a float or int field (optional or not), ``"mapping"`` for a mapping
    of numbers, else None."""
    if annotation in (float, int):
        return "number"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _numeric(args[0])
    if origin is dict:
        return "mapping" if _numeric(args[1]) == "number" else None
    kinds = {_numeric(a) for a in args}
    return "number" if "number" in kinds else "mapping" if "mapping" in kinds else None


class _Model(BaseModel):
    # allow_inf_nan: .nan and .inf are YAML numbers, but no figure can come of them
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _true_is_not_a_number(cls, v: Any, info: ValidationInfo) -> Any:
        """YAML's true/false are not numbers here (pydantic would read them as 1 and 0)."""
        if not isinstance(v, bool | dict):
            return v
        kind = _numeric(cls.model_fields[info.field_name].annotation)
        if kind == "number" and isinstance(v, bool):
            raise PydanticCustomError("bool_not_number", "true or false is not a number")
        if kind == "mapping" and isinstance(v, dict):
            for key, x in v.items():
                if isinstance(x, bool):
                    raise PydanticCustomError(
                        "bool_not_number", "true or false is not a number", {"key": key}
                    )
        return v


class StaffingReduction(_Model):
    """Personalneddragning: fewer own staff through natural attrition (hiring freeze)."""

    target_pct: float = field("staffing_reduction.target_pct", required=True)
    start: Month | None = field("staffing_reduction.start")
    ramp_months: int | None = field("staffing_reduction.ramp_months")
    division: str | None = field("staffing_reduction.division")


class Replacement(_Model):
    """How the agency hours taken away are replaced (the board's phase-out decision flow, 000)."""

    own_staff_pct: float = field("agency.replacement.own_staff_pct", required=True)
    purchased_care_pct: float = field("agency.replacement.purchased_care_pct", required=True)
    not_replaced_pct: float = field("agency.replacement.not_replaced_pct", required=True)

    @model_validator(mode="after")
    def _adds_to_100(self) -> Replacement:
        total = self.own_staff_pct + self.purchased_care_pct + self.not_replaced_pct
        if abs(total - 100) > 1e-6:
            raise ValueError(
                f"the replacement shares must add up to 100 (they add up to {total:g})"
            )
        return self


_CATEGORY = lever("agency.categories")


class Agency(_Model):
    """Hyrtimmar: agency hours per category, with the replacement mix and a fill rate."""

    change_pct: float | None = field("agency.change_pct")
    categories: dict[str, Annotated[float, Field(ge=_CATEGORY.lo, le=_CATEGORY.hi)]] | None = Field(
        default=None, description=_CATEGORY.schema_description()
    )
    start: Month | None = field("agency.start")
    ramp_months: int | None = field("agency.ramp_months")
    replacement: Replacement | None = Field(
        default=None, description="Default: the case's parameters (an assumption)."
    )
    fill_rate_pct: float | None = field("agency.fill_rate_pct")
    division: str | None = field("agency.division")


class RestRule(_Model):
    """Dygnsvila: extra staffing need in round-the-clock care from a start month."""

    start: Month | None = field("rest_rule.start")
    extra_need_pct: float | None = field("rest_rule.extra_need_pct")
    weekend_mitigation_pct: float | None = field("rest_rule.weekend_mitigation_pct")
    overtime_pct: float | None = field("rest_rule.overtime_pct")
    agency_pct: float | None = field("rest_rule.agency_pct")

    @model_validator(mode="after")
    def _coverage_at_most_100(self) -> RestRule:
        if (
            self.overtime_pct is not None
            and self.agency_pct is not None
            and self.overtime_pct + self.agency_pct > 100 + 1e-6
        ):
            raise ValueError(
                f"overtime_pct + agency_pct must be at most 100 (they add up to {self.overtime_pct + self.agency_pct:g}); the rest is not covered"
            )
        return self


class Revenue(_Model):
    """Intäkter: a change in revenue from a start month."""

    change_pct: float | None = field("revenue.change_pct")
    mkr_per_year: float | None = field("revenue.mkr_per_year")
    start: Month | None = field("revenue.start")


class Measure(_Model):
    """A named measure of an action plan (åtgärd), in mkr a year from a start month."""

    name: str = Field(min_length=1, max_length=80)
    mkr_per_year: float = field("measures.mkr_per_year", required=True)
    start: Month | None = field("measures.start")
    ramp_months: int | None = field("measures.ramp_months")
    account: str | None = Field(
        default=None,
        description="The cost or revenue account it acts on. Default: the case's first account with role other.",
    )
    division: str | None = field("measures.division")


_PAY = lever("pay_revision_pct")


class Levers(_Model):
    staffing_reduction: StaffingReduction | None = None
    agency: Agency | None = None
    drug_cost_growth_pct: float | None = field("drug_cost_growth_pct")
    price_growth_pct: float | None = field("price_growth_pct")
    rest_rule: RestRule | None = None
    realisation_pct: float | None = field("realisation_pct")
    # the range is checked by the validator below (a number or a mapping year -> number)
    pay_revision_pct: float | dict[int, float] | None = Field(
        default=None, description=_PAY.schema_description()
    )
    revenue: Revenue | None = None
    measures: list[Measure] | None = Field(default=None, max_length=MAX_MEASURES)

    @field_validator("pay_revision_pct", mode="before")
    @classmethod
    def _pay_revision(cls, v: Any) -> Any:
        """One per cent for every year, or a mapping year -> per cent; each within the
        lever's range (0 to 10)."""
        if v is None:
            return v

        def pct(x: Any, where: str) -> float:
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise ValueError(f"{where}{shown(x)} is not a number; write e.g. 4.1 (per cent)")
            if not math.isfinite(x):
                raise ValueError(
                    f"{where}{x} is not a finite number; allowed {_PAY.allowed()} (per cent)"
                )
            if not _PAY.lo <= x <= _PAY.hi:
                raise ValueError(
                    f"{where}{x:g} is out of range; allowed {_PAY.allowed()} (per cent)"
                )
            return float(x)

        def year_of(k: Any) -> int:
            """A year as YAML writes it (2024) or JSON does ("2024"); never 2023.7 or true."""
            if isinstance(k, int) and not isinstance(k, bool):
                return k
            if isinstance(k, str) and k.strip().isdigit():
                return int(k)
            raise ValueError(f"{shown(k)} is not a year; write e.g. {{2023: 4.1, 2024: 3.3}}")

        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                year = year_of(k)
                out[year] = pct(x, f"year {year}: ")
            return out
        return pct(v, "")


class Scenario(_Model):
    """One scenario: a name, a description and the levers it moves from the baseline."""

    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=4000)
    levers: Levers = Field(default_factory=Levers)
    assumptions: dict[str, float] = Field(
        default_factory=dict,
        description="Overrides of the case's assumptions (parameters.csv keys), each within its plausible range.",
    )

    @property
    def hash(self) -> str:
        """sha256 of the scenario's content (not its file's bytes), first 16 hex digits.
        Unset fields are left out, so a new optional field never changes an old hash."""
        text = json.dumps(
            self.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def is_baseline(self) -> bool:
        return self.levers == Levers() and not self.assumptions

    def with_changes(self, name: str | None = None, **levers: Any) -> Scenario:
        """A new, validated scenario with some levers replaced, e.g.
        ``s.with_changes(name="Mer hyrstopp", agency={"change_pct": -80})``."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["levers"] = {**data.get("levers", {}), **levers}
        if name is not None:
            data["name"] = name
        return parse_scenario(data, f"scenario '{data['name']}'")

    def to_yaml(self) -> str:
        """The scenario as YAML, with only what it sets (a reform states only what it changes)."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        data = {"name": self.name, **data}
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --------------------------------------------------------------------------- reading


class _UniqueKeyLoader(yamlsafe.Loader):
    """The bounded safe YAML loader (:mod:`balans.inputs.yamlsafe`) that also refuses a key given
    twice in one mapping."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *block`, merged below
            continue
        key = loader.construct_object(key_node, deep=deep)
        yamlsafe.check_key(key, key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key {shown(key)} is given twice (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (a dict) into a :class:`Scenario`."""
    if data is None:
        raise ScenarioError(
            source, [("", MISSING, "the file is empty; a scenario needs at least 'name:'")]
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            source,
            [
                (
                    "",
                    MISSING,
                    f"expected a mapping with 'name:' and 'levers:', got {type(data).__name__}",
                )
            ],
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, [_explain(e) for e in exc.errors()]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` naming what is wrong."""
    path = Path(path)
    text = _read_text(path)
    try:
        data = yamlsafe.load(text, _UniqueKeyLoader)
    except yamlsafe.YamlProblem as exc:
        raise ScenarioError(
            str(path), [(exc.where, MISSING, f"not valid YAML: {exc.problem}")]
        ) from None
    return parse_scenario(data, str(path))


def _read_text(path: Path) -> str:
    """The file's text; a folder, an unreadable file, a name too long or bytes that are not
    UTF-8 are a :class:`ScenarioError` naming the file."""

    def refuse(problem: str) -> ScenarioError:
        return ScenarioError(str(path), [("", MISSING, problem)])

    try:
        if path.is_dir():
            raise refuse("a folder, not a scenario file")
        if not path.is_file():
            raise refuse("the file does not exist")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"the file is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise refuse(f"the file cannot be read: {path_problem(path, exc)}") from None


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario file atomically (a crash never leaves half a file); a path that
    cannot be written (a folder, under a file, read-only, a name too long) is a
    :class:`~balans.errors.BalansError` naming it."""
    path = Path(path)
    try:
        if path.is_dir():
            raise BalansError(f"{cut(str(path), 300)}: a folder; name a file to write, e.g. x.yaml")
        write_text_atomic(path, scenario.to_yaml())
    except OSError as exc:
        raise BalansError(
            f"{cut(str(path), 300)}: the scenario file cannot be written: {path_problem(path, exc)}"
        ) from None
    return path


def path_problem(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be read or written, in words: a file where a folder of its path
    should be, a name too long, no permission, else the system's own reason."""
    import errno

    for parent in [path, *path.parents]:
        with contextlib.suppress(OSError):
            if parent.exists():
                if parent != path and not parent.is_dir():
                    return f"{cut(str(parent), 300)} is a file, not a folder"
                break
    if exc.errno == errno.ENAMETOOLONG:
        longest = max((len(part.encode()) for part in path.parts), default=0)
        return f"a name in the path is too long ({longest} bytes; allowed: at most 255)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (a read-only folder, or a file or folder not yours)"
    return exc.strerror or type(exc).__name__


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario format, for editors (``balans schema``)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Balans scenario"
    return schema


# --------------------------------------------------------------------------- messages


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class found by walking ``loc`` down from :class:`Scenario`."""
    current: Any = Scenario
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = _unwrap(field.annotation)
        elif isinstance(part, int):
            continue
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """The model inside Optional[...] / list[...]; otherwise the annotation."""
    for arg in typing.get_args(annotation) or ():
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def _field_description(loc: tuple[Any, ...]) -> str:
    if not loc:
        return ""
    parent = _model_at(loc[:-1])
    if parent is not None and isinstance(loc[-1], str) and loc[-1] in parent.model_fields:
        return parent.model_fields[loc[-1]].description or ""
    return ""


_UNION_TAG = re.compile(r"^(float|int|str|bool|(dict|list|function-\w+|nullable)\[[^ ]*\])$")


def _explain(err: dict[str, Any]) -> tuple[str, object, str]:
    # pydantic adds the union member to the path (e.g. 'float', 'dict[int,float]'): drop
    # those, not a key of the file's that happens to hold a bracket
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and _UNION_TAG.match(p)))
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    typ = err["type"]
    value = err.get("input", MISSING)
    ctx = err.get("ctx") or {}
    # a field's description says its unit and range; a value in a mapping (a category, an
    # assumption) takes the mapping's
    desc = (_field_description(loc) or _field_description(loc[:-1])) if loc else ""
    if typ == "extra_forbidden" and loc:
        parent = _model_at(loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        guess = difflib.get_close_matches(str(loc[-1])[:100], allowed, n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        return path, MISSING, f"unknown key{hint} Allowed here: {', '.join(allowed)}"
    if typ == "missing":
        return path, MISSING, f"this field is required. {desc}".strip()
    if typ in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return path, value, f"out of range. {desc or 'Limit: ' + str(ctx)}".strip()
    if typ == "string_pattern_mismatch":
        return path, value, "not a month; write YYYY-MM, e.g. 2024-01"
    if typ in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        return path, value, f"{err['msg'].lower()}. {desc}".strip()
    if typ == "finite_number":
        return path, value, f"not a finite number (NaN or infinity). {desc}".strip()
    if typ == "bool_not_number":
        if "key" in ctx:  # a value in a mapping (an assumption, a category)
            key = str(ctx["key"])
            path, value = f"{path}.{key}", value.get(ctx["key"], value)
            desc = _field_description((*loc, key)) or desc
        return path, value, f"true or false is not a number; write a number. {desc}".strip()
    if typ == "value_error":
        quoted = MISSING if isinstance(value, dict) else value
        return path, quoted, str(ctx.get("error", err["msg"]))
    if typ == "model_type":
        return path, value, f"expected a mapping of fields here. {desc}".strip()
    return path, value, f"{err['msg']}. {desc}".strip()


def baseline_scenario() -> Scenario:
    """The baseline: no lever moved (``balans run`` without a file, a case without its own
    ``scenarios/baseline.yaml``)."""
    return Scenario(
        name="Basprognos (inga nya åtgärder)",
        description="Utfallet till och med den senaste utfallsmånaden framskrivet med "
        "lönerevision, läkemedelskostnadsökning och prisökning, och med det som var beslutat "
        "före den. Inga nya åtgärder.",
    )
