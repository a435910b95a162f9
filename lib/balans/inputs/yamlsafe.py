"""YAML for files a user writes (scenarios, case.yaml, mapping files): safe, and bounded.

PyYAML's safe loader builds no Python objects beyond plain data, but it still lets a short
file grow without bound: an alias (``*a``) names a node that may itself hold aliases, so a
600-byte file can stand for billions of values ("billion laughs"), and each face that
walks or prints the data then runs out of time or memory. It also recurses once per level
of nesting, so a 10 000-deep list is a ``RecursionError``, and a key that is a list
(``? [a, b]: 1``) or a date that is not one (``2024-13-45``) raises ``TypeError`` or
``ValueError`` rather than a YAML error.

:func:`load` reads such text with a :class:`Loader` that refuses nesting deeper than
:data:`MAX_DEPTH`, aliases that add more than :data:`MAX_ALIAS_NODES` nodes, and keys that
are not single values, and turns every failure into one :class:`YamlProblem` with the line
and column, for the caller to raise as its own error (:class:`~balans.errors.ScenarioError`,
:class:`~balans.errors.DataError`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

MAX_DEPTH = 50
"""Levels of nesting a file may have (a scenario needs 4, a mapping file 5)."""
MAX_ALIAS_NODES = 10_000
"""Nodes that aliases may add beyond the file's own: reusing a block is fine, a bomb is not."""


class YamlProblem(Exception):
    """Text that is not YAML a user's file may hold: ``where`` (line, column) and ``problem``."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None):
        self.problem, self.line, self.column = problem, line, column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{problem}")

    @property
    def where(self) -> str:
        return "" if self.line is None else f"line {self.line}, column {self.column}"


def _mark_error(problem: str, mark: Any) -> yaml.MarkedYAMLError:
    return yaml.composer.ComposerError(None, None, problem, mark)


class Loader(yaml.SafeLoader):
    """The safe loader with a bound on nesting and on what aliases may add."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _mark_error(
                    f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.tag != "tag:yaml.org,2002:merge":  # `<<: *block`
                    check_key(self.construct_object(key_node, deep=deep), key_node)
        return super().construct_mapping(node, deep=deep)

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_aliases(node)
        return node


def _check_aliases(root: yaml.Node) -> None:
    """Refuse a document whose aliases add more than :data:`MAX_ALIAS_NODES` nodes (or one
    that refers to itself). Aliases compose to the very node they name, so the document is
    a graph; its size written out is counted bottom-up, once per distinct node."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            continue
        if key in size:
            continue
        if key in on_path:
            raise _mark_error("an alias refers to the block it is in", node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        for c in children:
            if id(c) in on_path:
                raise _mark_error("an alias refers to the block it is in", c.start_mark)
            if id(c) not in size:
                stack.append((c, False))
    if size[id(root)] - len(size) > MAX_ALIAS_NODES:
        raise _mark_error(
            f"its aliases (*name) stand for {size[id(root)]:,} values in all; allowed: "
            f"at most {MAX_ALIAS_NODES:,} values more than the file writes out",
            root.start_mark,
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_key(key: Any, key_node: yaml.Node) -> None:
    """A mapping key must be a single value (text, a number, a date), not a list or mapping."""
    if not isinstance(key, Hashable):
        kind = "list" if isinstance(key, list) else "mapping" if isinstance(key, dict) else "value"
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"a key must be a single value (a name or a number), not a {kind}",
            key_node.start_mark,
        )


def load(text: str, loader: type[Loader] = Loader) -> Any:
    """The data in ``text``; any problem is a :class:`YamlProblem` (line and column from 1)."""
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        if mark is None:
            raise YamlProblem(problem) from None
        raise YamlProblem(problem, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(str(exc)[:200]) from None
    except RecursionError:
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. a date 2024-13-45
        raise YamlProblem(f"a value YAML cannot read ({str(exc)[:100]})") from None
