"""PromQL at load time: parse users' selectors and expressions, and build label sets that match them.

We parse with `promql-parser` (a port of the Prometheus parser) so a broken custom selector is reported at
its spec line rather than later, and less precisely, by promtool.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

import promql_parser

from .promql_fragments import PromQLTextError, check_regex, matcher, string


def metric_names(text: str) -> frozenset[str]:
    """The metric names the selectors of an expression read."""
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.update([node.name] if node.name else
                         [m.value for m in node.matchers.matchers if m.name == "__name__" and str(m.op) == "MatchOp.Equal"])
    promql_parser.walk(promql_parser.parse(text), pre_visit=visit)
    return frozenset(names)


class PromQLError(ValueError):
    """An expression or selector that does not parse, or is not of the kind needed."""


def check_expression(text: str) -> None:
    """Raise PromQLError when `text` is not valid PromQL."""
    try:
        promql_parser.parse(text)
    except ValueError as exc:
        raise PromQLError(f"invalid PromQL: {exc}") from None


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str      # one of = != =~ !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None  # Prometheus regexes are fully anchored
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return matcher(self.name, self.op, self.value)


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


@dataclass(frozen=True)
class Selector:
    """A metric name and label matchers: `metric{a="b", c!=""}`."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Selector":
        """Parse a vector selector; raise PromQLError for anything else."""
        if not isinstance(text, str):
            raise PromQLError(f"expected a PromQL selector, got {text!r}")
        try:
            node = promql_parser.parse(text)
        except ValueError as exc:
            raise PromQLError(f"invalid PromQL selector: {exc}") from None
        if not isinstance(node, promql_parser.VectorSelector) or node.offset is not None or node.at is not None:
            raise PromQLError(f'expected a selector like metric{{label="value"}}, got "{text}"')
        if node.matchers.or_matchers:
            raise PromQLError(f'"or" inside a selector is not supported, got "{text}"')
        matchers = []
        for m in node.matchers.matchers:
            if m.name == "__name__":
                continue
            op = _OPS[str(m.op).split(".")[-1]]
            if op in ("=~", "!~"):
                try:
                    check_regex(m.value)
                except PromQLTextError as exc:
                    raise PromQLError(f"label {m.name}: {exc}") from None
            matchers.append(Matcher(m.name, op, m.value))
        if not node.name:
            raise PromQLError(f'expected a selector that names its metric, got "{text}"')
        return cls(node.name, tuple(matchers))

    def with_matchers(self, *extra: Matcher) -> "Selector":
        return Selector(self.metric, self.matchers + tuple(extra))

    def renamed(self, metric: str) -> "Selector":
        return Selector(metric, self.matchers)

    def matches(self, metric: str, labels: dict[str, str]) -> bool:
        return metric == self.metric and all(m.matches(labels) for m in self.matchers)

    def __str__(self) -> str:
        if not self.matchers:
            return self.metric
        return self.metric + "{" + ", ".join(str(m) for m in self.matchers) + "}"


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """`{job="x", env!="dev"}` -> matchers; the braces are optional."""
    body = text.strip()
    if not body.startswith("{"):
        body = "{" + body + "}"
    return Selector.parse("__oncallgen__" + body).matchers


def _candidates(matchers: list[Matcher]) -> list[str]:
    values: list[str] = []
    for m in matchers:
        if m.op in ("=", "!="):
            values.append(m.value)
        else:
            for part in m.value.split("|"):
                values.extend(_regex_examples(part))
    values.extend(["", "500", "429", "error", "oncallgen"])
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _regex_examples(regex: str) -> list[str]:
    # Digits for `5..`-style status classes and a word for `.*Error.*`-style class names.
    simple = regex.replace(".*", "").replace(".+", "x").replace(".", "0")
    return [simple] if re.fullmatch(r"[A-Za-z0-9_:\-]*", simple) else []


def example_labels(metric: str, base: dict[str, str], must: list[Selector], must_not: list[Selector]) -> dict[str, str] | None:
    """Labels for a series of `metric` that every selector in `must` matches and none in `must_not` does.

    `base` labels are fixed (provider, model, le). Returns None when no such label set is found.
    """
    found = _example_labels(metric, tuple(base.items()), tuple(must), tuple(must_not))
    return None if found is None else dict(found)


# Test series ask the same question for every scenario of a service (a few dozen distinct ones per service), and
# each answer is a search: remember the recent answers, a bounded number, so memory does not grow with the run.
@lru_cache(maxsize=512)
def _example_labels(metric: str, base_items: tuple[tuple[str, str], ...], must_t: tuple[Selector, ...],
                    must_not_t: tuple[Selector, ...]) -> tuple[tuple[str, str], ...] | None:
    base, must, must_not = dict(base_items), list(must_t), list(must_not_t)
    labels = dict(base)
    for sel in must:
        for m in sel.matchers:
            if m.op == "=" and m.name not in base:
                labels[m.name] = m.value
    free = sorted({m.name for sel in must + must_not for m in sel.matchers if m.name not in labels and m.name not in base})
    by_name = {name: _candidates([m for sel in must + must_not for m in sel.matchers if m.name == name]) for name in free}
    for combo in itertools.product(*(by_name[n] for n in free)):
        trial = dict(labels)
        trial.update({n: v for n, v in zip(free, combo) if v != ""})
        if all(s.matches(metric, trial) for s in must) and not any(s.matches(metric, trial) for s in must_not):
            return tuple(trial.items())
    if all(s.matches(metric, labels) for s in must) and not any(s.matches(metric, labels) for s in must_not):
        return tuple(labels.items())
    return None


def series_text(metric: str, labels: dict[str, str]) -> str:
    """promtool's series notation with labels in sorted order."""
    return _series_text(metric, tuple(labels.items()))


# A service's scenarios write the same series (each provider and model, each histogram bucket) again and again.
@lru_cache(maxsize=2048)
def _series_text(metric: str, items: tuple[tuple[str, str], ...]) -> str:
    labels = dict(items)
    inner = ", ".join(f"{k}={string(v)}" for k, v in sorted(labels.items()) if v != "")
    return metric + "{" + inner + "}"
