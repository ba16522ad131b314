"""Runbooks: one Markdown page per alert type, compiled from the same spec as the alert.

`content` and `links` are what signals use to say what their runbooks hold (plain data and link helpers);
`pages.render_all(plan, collect(plan))` renders every page and the index, one at a time; `checks` raises
SpecError when an alert has no runbook, a runbook has no alert, a decision tree is empty or a relative link leads
nowhere. This package's `__init__` imports nothing, so signals can import `content` without pulling in the renderer.
"""
