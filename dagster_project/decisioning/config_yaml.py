"""Reading marketing's YAML so that nothing in it is silently misread.

PyYAML's ``safe_load`` keeps the last of two equal keys (a second ``email:`` block re-routes
email without a word), reads ``21:00`` or ``1:30`` as base-60 numbers (YAML 1.1), and raises a
bare ``ValueError`` for an impossible date such as ``2026-02-30``. This loader rejects repeated
keys at any depth with the file, line and key path; reads numbers with colons as the text they
are (as YAML 1.2 does); and leaves an impossible date as its text, for the config's date type to
reject with the key path. It also returns the line of every key path, so errors can name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

KeyPath = tuple[str | int, ...]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
# PyYAML's YAML 1.1 int and float patterns without the base-60 (``1:30``) forms.
_DECIMAL_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_DECIMAL_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class YamlFileError(ValueError):
    """The file is not YAML this project accepts; the message names the file and the line."""


def key_path_text(path: KeyPath) -> str:
    """``offers[0].eligibility.all[1].value``: how errors name a place in a file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class _StrictLoader(yaml.SafeLoader):
    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:  # 2026-02-30: shaped like a date, is none
            return self.construct_scalar(node)


_StrictLoader.add_implicit_resolver(_INT, _DECIMAL_INT, list("-+0123456789"))
_StrictLoader.add_implicit_resolver(_FLOAT, _DECIMAL_FLOAT, list("-+0123456789."))
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


@dataclass(frozen=True)
class YamlDocument:
    data: Any
    lines: dict[KeyPath, int]  # 1-based line of each key (or list item) in the file

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The line of the deepest known part of ``path``."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def _scalar_key(loader: _StrictLoader, node: yaml.Node) -> Any:
    key = loader.construct_object(node, deep=True)
    return key if isinstance(key, int | str) else str(key)


def _walk(
    loader: _StrictLoader,
    node: yaml.Node,
    path: KeyPath,
    source: Path,
    lines: dict[KeyPath, int],
    walked: set[int],
) -> None:
    """Record the line of every key path; a key given twice in one mapping is an error."""
    if id(node) in walked:  # an alias of an anchor already walked (or one inside itself)
        return
    walked.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<: *defaults``: merged keys are meant to be overridden
            key = _scalar_key(loader, key_node)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                raise YamlFileError(
                    f"{source}:{line}: {key_path_text((*path, key))}: duplicate key {key!r} "
                    f"(first given at line {first_seen[key]}); a repeated key would silently "
                    "replace the first, so remove or rename one"
                )
            first_seen[key] = line
            lines[(*path, key)] = line
            _walk(loader, value_node, (*path, key), source, lines, walked)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(loader, item, (*path, index), source, lines, walked)


def load_yaml(source: Path) -> YamlDocument:
    """One YAML document, read strictly; raises YamlFileError (or FileNotFoundError)."""
    text = source.read_text(encoding="utf-8")
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, {})
        lines: dict[KeyPath, int] = {}
        _walk(loader, node, (), source, lines, set())
        return YamlDocument(loader.construct_document(node), lines)
    except yaml.YAMLError as error:
        raise YamlFileError(f"{source}: not valid YAML: {error}") from error
    finally:
        loader.dispose()
