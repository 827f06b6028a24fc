"""YAML loading that remembers line numbers, so config errors can name file, line and key (as Vale does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from notecheck.errors import ConfigError

# libyaml's C loader when present: the bundled lexicons parse in milliseconds instead of a quarter second.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDocument:
    """Parsed YAML plus a map from key path to the 1-based line where that key appears."""

    path: str
    data: Any
    lines: dict[tuple[Any, ...], int]

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest known prefix of `loc`."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return None


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines)


def load_yaml(path: str | Path, text: str | None = None) -> YamlDocument:
    """Parse a YAML file; syntax errors become ConfigError with the line."""
    path = str(path)
    try:
        if text is None:
            text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file ({exc.__class__.__name__})", path=path) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", path=path, line=mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(path=path, data=data, lines=lines)


def raise_validation_error(doc: YamlDocument, exc: ValidationError) -> None:
    """Turn the first pydantic error into a ConfigError naming file, line and key, with valid choices."""
    err = exc.errors()[0]
    loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    if loc and loc[-1] == "[key]":  # a mapping key that is not one of the allowed names
        loc = loc[:-1]
        key = ".".join(str(p) for p in loc)
        parent = ".".join(str(p) for p in loc[:-1]) or "(top level)"
        message = f"unknown name '{loc[-1]}' under '{parent}': {err['msg'].lower()}"
        raise ConfigError(message, path=doc.path, line=doc.line_of(loc), key=key) from None
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key '{key}'"
    elif kind in ("literal_error", "enum"):
        message = f"bad value for '{key}': {err['msg'].lower()}"
    else:
        message = f"bad value for '{key}': {err['msg']}"
    raise ConfigError(message, path=doc.path, line=doc.line_of(loc), key=key) from None
