"""YAML loading that remembers the line of every value, for error messages."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import yaml

from bot.content_store.errors import ContentError

Path = Tuple[Any, ...]


def load_with_lines(text: str, filename: str) -> Tuple[Any, Dict[Path, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(
            filename, line, "", f"le YAML est mal formé ({problem}) : vérifiez l'indentation, les deux-points et les guillemets"
        ) from None
    lines: Dict[Path, int] = {}
    if node is None:
        return None, lines
    return _convert(node, (), lines, filename), lines


def _convert(node: yaml.Node, path: Path, lines: Dict[Path, int], filename: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: Dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                raise ContentError(filename, key_node.start_mark.line + 1, str(key), "cette clé apparaît deux fois")
            out[key] = _convert(value_node, path + (key,), lines, filename)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, path + (i,), lines, filename) for i, child in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
