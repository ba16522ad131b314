"""The jinja2 environment the runbook templates (`templates/`) render in."""
from __future__ import annotations

from functools import lru_cache

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..content import markdown as md
from ..content.markdown import Markdown


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    # Sandboxed and strict: templates can read the view, call nothing else, and print no missing value. Every
    # printed value is escaped unless it is Markdown already (md.finalize).
    env = ImmutableSandboxedEnvironment(loader=jinja2.PackageLoader("generator.runbooks", "templates"),
                                        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                        keep_trailing_newline=True, autoescape=False, finalize=md.finalize)
    env.filters.update(code=md.code, cell=md.cell, fence=md.fence, url=md.url, codes=md.codes, text=md.text,
                       macro_output=Markdown)  # a macro's output: the values inside it were escaped as printed
    return env


def template(name: str) -> jinja2.Template:
    return _environment().get_template(name)
