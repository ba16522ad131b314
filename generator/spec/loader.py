"""YAML loading that remembers where every value came from and refuses duplicate keys.

PyYAML silently keeps the last of two equal keys; a spec that says `page_at` twice is almost always a
mistake, so we compose the node graph ourselves and build plain Python values from it, recording the
line and column of every mapping key and sequence item on the way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Location, SpecError

try:  # the LibYAML parser is several times faster on large spec trees
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[Any, ...]


@dataclass
class Document:
    """One YAML document of a spec file, with the position of every field inside it."""

    file: str
    index: int
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_) -> Location:
        """The location of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.positions:
                line, col = self.positions[path]
                return Location(self.file, line, col)
            if not path:
                return Location(self.file, 1, 1)
            path = path[:-1]


def format_path(path: Path_) -> str:
    """`('spec', 'providers', 0, 'name')` -> `spec.providers[0].name`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _build(node: yaml.Node, path: Path_, doc: Document) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise SpecError(_mark(doc, key_node), format_path(path), "YAML merge keys (<<) are not supported")
            key = _build(key_node, path, doc)
            if not isinstance(key, str):
                raise SpecError(_mark(doc, key_node), format_path(path), f"keys must be strings, got {key!r}")
            child = path + (key,)
            if key in result:
                first = doc.positions[child]
                raise SpecError(_mark(doc, key_node), format_path(child),
                                f"duplicate key (first defined at line {first[0]})")
            doc.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item_node in enumerate(node.value):
            child = path + (i,)
            doc.positions[child] = (item_node.start_mark.line + 1, item_node.start_mark.column + 1)
            items.append(_build(item_node, child, doc))
        return items
    # Scalars: let the safe constructor resolve ints, floats, bools and nulls exactly as YAML 1.1 says.
    value = _SCALARS.construct_object(node, deep=True)
    _SCALARS.constructed_objects.clear()  # the constructor caches by node; we never revisit one
    return value


def _mark(doc: Document, node: yaml.Node) -> Location:
    return Location(doc.file, node.start_mark.line + 1, node.start_mark.column + 1)


_SCALARS = yaml.SafeLoader("")


def display_path(path: Path, root: Path | None = None) -> str:
    """The path as users (and generated headers) should read it.

    Relative to the working directory when inside it; otherwise relative to the folder holding the spec
    argument it was found under (`specs/chat.yaml`), so output does not depend on where it is run from.
    """
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        rel = str(path)
    if rel.startswith("..") and root is not None:
        base = root.resolve().parent if root.is_dir() else root.resolve().parent.parent
        rel = os.path.relpath(path.resolve(), base)
    return rel.replace(os.sep, "/")


def load_file(path: Path, root: Path | None = None) -> list[Document]:
    """Every YAML document in `path`, with positions. Raises SpecError on unreadable or malformed YAML.

    `root` is the spec argument `path` was found under; it names the file when it lies outside the working
    directory.
    """
    name = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(Location(name), "", f"cannot read file: {exc}") from None
    docs: list[Document] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if node is None:
                continue
            doc = Document(name, index, None)
            doc.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
            doc.data = _build(node, (), doc)
            docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(loc, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(Location(name), "", f"invalid YAML: {exc}") from None
    return docs


def discover(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Spec files named by `paths` (files, or folders searched recursively), each with the argument it came
    from, sorted for determinism."""
    found: dict[Path, Path] = {}
    for p in paths:
        if p.is_dir():
            for ext in ("*.yaml", "*.yml"):
                for f in p.rglob(ext):
                    if f.is_file():
                        found.setdefault(f, p)
        elif p.is_file():
            found.setdefault(p, p)
        else:
            raise SpecError(Location(display_path(p)), "", "no such file or directory")
    # Sort by the posix form of the path so the order is the same on every machine and locale.
    return sorted(found.items(), key=lambda item: item[0].as_posix())
