"""YAML loading that remembers where every value came from and refuses duplicate keys.

PyYAML silently keeps the last of two equal keys; a spec that says `page_at` twice is almost always a
mistake, so we compose the node graph ourselves and build plain Python values from it, recording the
line and column of every mapping key and sequence item on the way.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import FieldError, Location, SpecError

try:  # the LibYAML parser is several times faster on large spec trees
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[Any, ...]

# Limits of one spec file. Specs are small: these bound the time and memory a hostile file can cost.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 1000
MAX_INTEGER = 2 ** 53  # beyond it a YAML integer no longer converts to a float exactly


@dataclass
class Document:
    """One YAML document of a spec file, with the position of every field inside it."""

    file: str
    index: int
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    max_items: int = MAX_ITEMS  # entries in one list or mapping

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


def _build(node: yaml.Node, path: Path_, doc: Document, seen: set[int] | None = None) -> Any:
    """Plain values from the node graph. Aliases are refused: the composer shares the anchored node, so a
    node met twice is an alias (an alias bomb or a recursive alias is stopped at its first repeat)."""
    seen = set() if seen is None else seen
    seen.add(id(node))
    if len(path) > MAX_DEPTH:
        raise SpecError(_mark(doc, node), format_path(path), f"nested deeper than {MAX_DEPTH} levels")
    if node.tag == "tag:yaml.org,2002:binary" or (isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS):
        raise SpecError(_mark(doc, node), format_path(path), f"unsupported YAML tag {node.tag}")
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and len(node.value) > doc.max_items:
        raise SpecError(_mark(doc, node), format_path(path), f"more than {doc.max_items} entries in one list or mapping")
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise SpecError(_mark(doc, key_node), format_path(path), "YAML merge keys (<<) are not supported")
            if id(key_node) in seen or id(value_node) in seen:
                raise SpecError(_mark(doc, key_node), format_path(path + (str(key_node.value),)), _ALIAS)
            key = _build(key_node, path, doc, seen)
            if not isinstance(key, str):
                raise SpecError(_mark(doc, key_node), format_path(path), f"keys must be strings, got {key!r}")
            child = path + (key,)
            if key in result:
                first = doc.positions[child]
                raise SpecError(_mark(doc, key_node), format_path(child),
                                f"duplicate key (first defined at line {first[0]})")
            doc.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, child, doc, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item_node in enumerate(node.value):
            child = path + (i,)
            if id(item_node) in seen:
                raise SpecError(_mark(doc, node), format_path(child), _ALIAS)
            doc.positions[child] = (item_node.start_mark.line + 1, item_node.start_mark.column + 1)
            items.append(_build(item_node, child, doc, seen))
        return items
    # Scalars: let the safe constructor resolve ints, floats, bools and nulls exactly as YAML 1.1 says.
    value = _SCALARS.construct_object(node, deep=True)
    _SCALARS.constructed_objects.clear()  # the constructor caches by node; we never revisit one
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(_mark(doc, node), format_path(path), "expected a finite number (no .nan, .inf or overflow)")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise SpecError(_mark(doc, node), format_path(path), f"number out of range (at most {MAX_INTEGER})")
    if isinstance(value, str) and _UNWRITABLE.search(value):
        raise SpecError(_mark(doc, node), format_path(path), "text with a NUL character or a lone surrogate "
                                                             "cannot be written out")
    return value


_FILE_NAME = re.compile(r"[\w./ +@,=-]+")
_ALIAS = "YAML aliases (*name) are not supported: write the value out"
_PLAIN_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")


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
    if not _FILE_NAME.fullmatch(name):
        # The name is printed in every generated header (YAML comments, HTML comments): keep it plain text.
        raise SpecError(Location(name, 1, 1), "", "spec file names may hold only letters, digits, spaces and "
                                                  ". _ - / + @ , =")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(Location(name, 1, 1), "", f"file is {size} bytes, over the limit of {MAX_FILE_BYTES} "
                                                      "bytes (1 MiB) per spec file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecError(Location(name), "", f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:  # grew while we looked
        raise SpecError(Location(name, 1, 1), "", f"file is over the limit of {MAX_FILE_BYTES} bytes (1 MiB) per spec file")
    return parse(name, data)


def parse(name: str, data: bytes, max_items: int = MAX_ITEMS) -> list[Document]:
    """Every YAML document in `data` (the bytes of the file called `name`), with positions: UTF-8 only, no
    aliases, tags or merge keys, nested at most MAX_DEPTH levels, at most `max_items` entries in a list or
    mapping. Raises SpecError at the line and column of the first problem."""
    text = decode(name, data)
    docs: list[Document] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if node is None:
                continue
            doc = Document(name, index, None, max_items=max_items)
            doc.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
            doc.data = _build(node, (), doc)
            docs.append(doc)
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (a control character): no mark, a position
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        raise SpecError(Location(name, line, column), "", f"invalid YAML: character U+{code:04X} is not allowed "
                                                          "(a control character)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(loc, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(Location(name), "", f"invalid YAML: {exc}") from None
    return docs


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte `offset`."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def decode(name: str, data: bytes) -> str:
    """The file's text; a NUL byte or bytes that are not UTF-8 are reported at their line and column."""
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if nul < 0 or exc.start < nul:
            line, col = _position(data, exc.start)
            raise SpecError(Location(name, line, col), "", f"not UTF-8 text: byte 0x{data[exc.start]:02x} "
                                                           "cannot start or continue a character") from None
    if nul >= 0:
        line, col = _position(data, nul)
        raise SpecError(Location(name, line, col), "", "NUL byte in the file: specs are UTF-8 text")
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark is harmless; YAML would read it as content
    return text


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


def field_error(doc: Document, exc: FieldError) -> SpecError:
    """A FieldError raised inside `doc`, located at the field's line."""
    return SpecError(doc.locate(exc.path), format_path(exc.path), exc.message)
