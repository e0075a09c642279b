"""YAML configuration documents that explain their mistakes: line numbers, key paths and
schema errors in words.

Scenarios, SUT files, bench files and register maps share this (``load_checked``): the YAML is
parsed with ruamel (which knows where every key is), checked against a JSON Schema with
jsonschema-rs, and every problem becomes a ``Problem`` that names the file, the line and column,
the key path and what would be valid::

    scenarios/x.yaml:12:5: sites[0].stations[0].count: -3 is less than the minimum of 1
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

Path_ = tuple[str | int, ...]  # a key path into the document


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    key_path: str  # "sites[0].stations[0].count"; "" for the document as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key_path}: {self.message}" if self.key_path else \
            f"{where}: {self.message}"


class DocumentError(ValueError):
    """A document that cannot be loaded; ``problems`` says why, one line each in ``str()``."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        unique = dict.fromkeys(problems)
        self.problems: list[Problem] = sorted(unique, key=lambda p: (p.line, p.column))
        super().__init__("\n".join(str(p) for p in self.problems))


def validate(plain_data: Any, validator: Any, schema: dict[str, Any],
             locator: Locator) -> list[Problem]:
    """Every schema problem of ``plain_data`` (``validator``: jsonschema_rs, for ``schema``)."""
    return [p for error in validator.iter_errors(plain_data)
            for p in schema_problems(error, locator, schema)]


# -- YAML and positions ------------------------------------------------------------------------


class _Constructor(RoundTripConstructor):
    """Round-trip construction, but timestamps stay text: the loader checks them itself, with a
    line number, where ruamel would raise a bare ValueError for 2026-13-05."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp",
                             RoundTripConstructor.construct_yaml_str)


def parse_yaml(text: str, source: str,
               error: Callable[[list[Problem]], DocumentError] | None = None) -> Any:
    """The YAML document as ruamel's round-trip tree (it knows every key's line); a syntax
    error raises ``error(problems)`` (a ``DocumentError`` by default)."""
    error = error or DocumentError
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise error([Problem(source, line, column, "",
                               f"YAML syntax error: {problem}{context}")]) from None
    except YAMLError as exc:
        raise error([Problem(source, 1, 1, "", f"YAML error: {exc}")]) from None


def plain(node: Any) -> Any:
    """ruamel's round-trip objects as plain JSON-like values (timestamps as ISO text)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        # 4.0 is a whole number to JSON Schema too; as an int it also counts and indexes
        return int(node) if node.is_integer() else float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime | date):
        return node.isoformat()
    return node


def load_checked(text: str, source: str, *, schema: dict[str, Any], validator: Any,
                 error: Callable[[list[Problem]], DocumentError],
                 mapping: str | None) -> tuple[dict[str, Any], Locator]:
    """A YAML mapping parsed, made plain and checked against ``schema``, with its ``Locator``
    for the checks that come after; any problem raises ``error(problems)``.

    ``mapping`` is what to tell the user a document that is not a mapping should hold (``"a
    bench file is a mapping (name, ...)"``); with ``None`` an empty document is an empty
    mapping, for files whose every key is optional."""
    tree = parse_yaml(text, source, error)
    locator = Locator(tree, source)
    if tree is None and mapping is None:
        return {}, locator
    data = plain(tree)
    if not isinstance(data, dict) and mapping is not None:
        empty = "the document is empty; " if tree is None else ""
        raise error([Problem(source, 1, 1, "", empty + mapping)])
    problems = validate(data, validator, schema, locator)
    if problems:
        raise error(problems)
    return data, locator


def format_path(path: Sequence[str | int]) -> str:
    """``("sites", 0, "stations", 0, "count")`` -> ``sites[0].stations[0].count``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


class Locator:
    """Line and column (1-based) of any key path in the parsed document."""

    def __init__(self, tree: Any, source: str) -> None:
        self.tree = tree
        self.source = source

    def _walk(self, path: Path_, want_value: bool) -> tuple[int, int]:
        node, position = self.tree, (1, 1)
        for depth, part in enumerate(path, start=1):
            if isinstance(node, CommentedMap):
                key = _find_key(node, part)
                if key is _MISSING:
                    break
                line, column, value_line, value_column = _own_position(node, key)
                position = (line + 1, column + 1)
                last = depth == len(path)
                if want_value and last and not isinstance(node[key], dict | list):
                    position = (value_line + 1, value_column + 1)
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, column = node.lc.data[part]
                position = (line + 1, column + 1)
                node = node[part]
            else:
                break
        return position

    def key(self, path: Path_) -> tuple[int, int]:
        """Where the key (or list item) at the end of ``path`` is."""
        return self._walk(path, want_value=False)

    def value(self, path: Path_) -> tuple[int, int]:
        """Where the scalar value at ``path`` is (its key, for mappings and lists)."""
        return self._walk(path, want_value=True)

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> Problem:
        line, column = self.key(path) if at_key else self.value(path)
        return Problem(self.source, line, column, format_path(path), message)

    def where(self, path: Path_) -> str:
        return f"{self.source}:{self.key(path)[0]}"


_MISSING = object()


def _own_position(node: CommentedMap, key: Any) -> list[int]:
    """``[key line, key column, value line, value column]`` (0-based) of ``key``, also when it
    came in through a merge (``<<: *anchor``): then where the anchored mapping has it."""
    if key in node.lc.data:
        return node.lc.data[key]
    for source in getattr(node, "merge", None) or ():
        mapping = source[1] if isinstance(source, tuple) else source  # older ruamel: (index, map)
        if isinstance(mapping, CommentedMap) and key in mapping:
            return _own_position(mapping, key)
    key_line, key_column = node.lc.line or 0, node.lc.col or 0
    return [key_line, key_column, key_line, key_column]


def _find_key(node: CommentedMap, part: str | int) -> Any:
    if part in node:
        return part
    for key in node:  # keys that were not strings in YAML (1: x) are strings after _plain
        if str(key) == str(part):
            return key
    return _MISSING


def _schema_at(schema: dict[str, Any], path: Sequence[str | int]) -> Any:
    node: Any = schema
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return {}
    return node


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "null": "nothing (null)"}

# What the schema's patterns mean, in words.
PATTERN_HINTS = {
    r"^[a-z0-9][a-z0-9-]*$": "use lower-case letters, digits and dashes, starting with a letter "
                             "or digit",
    r"^[A-Za-z0-9_-]+$": "use letters, digits, _ and -",
    r"^[A-Za-z0-9._-]+$": "use letters, digits, '.', '_' and '-'",
    r"^[A-Za-z0-9._-]*$": "use letters, digits, '.', '_' and '-'",
    r"^wss?://[^\s]+$": "use a ws:// or wss:// URL",
    r"^[a-z0-9_]+$": "use lower-case letters, digits and _",
}


def show(value: Any) -> str:
    """A value as the message shows it: JSON, shortened."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def one_of(options: Iterable[Any]) -> str:
    return ", ".join(o if isinstance(o, str) else show(o) for o in options)


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    candidates = list(candidates)
    for candidate in candidates:  # a case slip is the likeliest mistake
        if candidate.lower() == word.lower():
            return candidate
    found = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: Any, candidates: Iterable[str]) -> str:
    if not isinstance(word, str):
        return ""
    best = _closest(word, candidates)
    return f"; did you mean {show(best)}?" if best else ""


def choices(word: Any, candidates: Sequence[str], label: str) -> str:
    """``; did you mean "x"? Label: a, b`` or ``; label: a, b``: the end of a message about a
    name that is not one of ``candidates`` (no guess for patterns with wildcards)."""
    hint = "" if isinstance(word, str) and set(word) & set("*?[") else \
        did_you_mean(word, candidates)
    listed = summarise(candidates, limit=24)
    return f"{hint} {label[0].upper()}{label[1:]}: {listed}" if hint else f"; {label}: {listed}"


def schema_problems(error: Any, locator: Locator, schema: dict[str, Any]) -> list[Problem]:
    """``error`` (a jsonschema_rs validation error) as problems a person can act on."""
    path: Path_ = tuple(error.instance_path)
    kind = type(error.kind).__name__
    details = error.kind.as_dict()
    parent = _schema_at(schema, error.schema_path[:-1])
    value = error.instance

    if kind == "AdditionalProperties":
        allowed = sorted(parent.get("properties", {}))
        return [locator.problem((*path, key), f"unknown key {show(key)}"
                                f"{choices(key, allowed, 'allowed keys')}", at_key=True)
                for key in details["unexpected"]]
    if kind == "Required":
        prop = details["property"]
        return [locator.problem(path, f"required key {show(prop)} is missing", at_key=True)]
    if kind == "PropertyNames":
        key = details["error"].instance
        pattern = _schema_at(schema, error.schema_path[:-1]).get("pattern", "")
        hint = PATTERN_HINTS.get(pattern, f"the name must match {pattern}")
        return [locator.problem((*path, key), f"{show(key)} is not a valid name here: {hint}",
                                at_key=True)]
    if kind == "Enum":
        options = details["options"]
        if not isinstance(value, str) and str(value) in options:  # ocpp: 1.6 is a number in YAML
            quoted = ", ".join(show(o) for o in options)
            return [locator.problem(path, f"{show(value)} is read as a number; write it in "
                                          f"quotes: {show(str(value))} (allowed values: "
                                          f"{quoted})")]
        message = f"{show(value)} is not one of the allowed values: {one_of(options)}"
        message += did_you_mean(value, [o for o in options if isinstance(o, str)])
        return [locator.problem(path, message)]
    if kind == "Type":
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in details["types"])
        got = _TYPE_NAMES.get(_type_of(value), _type_of(value))
        shown = f" ({show(value)})" if not isinstance(value, dict | list) else ""
        return [locator.problem(path, f"expected {wanted}, got {got}{shown}")]
    if kind in ("AnyOf", "OneOfNotValid", "OneOfMultipleValid", "MinProperties",
                "MaxProperties", "Pattern") and "title" in parent:
        subject = "this" if isinstance(value, dict | list) else show(value)
        expected = parent.get("description", "").split(" Default:")[0]
        return [locator.problem(path, f"{subject} is not a valid {parent['title']}: expected "
                                      f"{expected}")]
    if kind == "Pattern":
        hint = PATTERN_HINTS.get(details.get("pattern", ""), f"it must match "
                                  f"{details.get('pattern', '')}")
        return [locator.problem(path, f"{show(value)} is not valid here: {hint}")]
    if kind == "MinItems":
        limit = details["limit"]
        return [locator.problem(path, f"needs at least {limit} item{'s' * (limit != 1)}")]
    if kind == "MaxItems":
        return [locator.problem(path, f"takes at most {details['limit']} items")]
    if kind == "MinProperties":
        return [locator.problem(path, f"needs at least {details['limit']} entry")]
    if kind == "UniqueItems":
        seen, repeated = [], []
        for item in value:
            (repeated if item in seen else seen).append(item)
        return [locator.problem(path, f"lists {one_of(repeated)} more than once")]
    if kind == "MinLength" and value == "":
        return [locator.problem(path, "must not be empty")]
    if kind == "MaxLength":
        return [locator.problem(path, f"{show(value)} is longer than {details['limit']} "
                                      "characters")]
    return [locator.problem(path, error.message)]


def summarise(items: Sequence[str], limit: int = 8) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"
