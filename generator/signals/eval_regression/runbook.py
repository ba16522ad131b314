"""What the runbooks of eval_regression's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, percent, status_pages
from ...content.markdown import code
from ...content.runbook import Query, RunbookContent, Step
from ...spec.units import format_duration, format_number
from .rules import AGE, CASES, EvalRegression, RATIO, STALE, baseline


def runbook(self: EvalRegression, service, cfg, alert):
    k = kubectl(service)
    own = c.selector(service=service.name)
    w = c.window(cfg["baseline"])
    suite, floor = code(cfg["suite"]), percent(cfg["floor"])
    drop = f"{format_number(cfg['max_drop'] * 100)} points"
    history = Query(f"Pass ratio against its {w} baseline (negative: points lost)",
                    f"{RATIO}{own} - {baseline(cfg['baseline'])}{own}")
    if alert.alert == STALE:
        return RunbookContent(
            meaning=(f"The latest run of eval suite {suite} on a model of `{service.name}` is older than "
                     f"{format_duration(cfg['stale_after'])}."),
            impact=("Nothing users see yet, but regressions go unseen: the eval alert cannot fire on results that "
                    "do not arrive."),
            steps=(
                Step("How old are the latest results, per suite and model (seconds)?", f"{AGE}{own}",
                     branches=(("every model of the suite is stale", "the eval job stopped → step:jobs"),
                               ("only one model is stale", "that model was removed or renamed: update "
                                "spec.providers[].models and the suite's configuration"))),
                Step("Is the eval job running?", key="jobs",
                     command=k("get cronjobs,jobs --sort-by=.metadata.creationTimestamp"),
                     branches=(("the last job failed", f"read its logs (`{k('logs job/<name>')}`) and rerun it"),
                               ("no job is scheduled", "the schedule was suspended or deleted: restore it"))),
            ),
            queries=(Query("Cases of the latest run", f"{CASES}{own}"),),
        )
    return RunbookContent(
        meaning=(f"Eval suite {suite} passes more than {drop} fewer cases on a model than its {w} average, or "
                 f"less than {floor} of them (runs of at least {format_number(cfg['min_cases'])} cases), for "
                 f"{format_duration(cfg['for'])}."),
        impact=("Answers got worse in a way users notice before any metric: wrong, unsafe or badly formatted "
                "output. Errors and latency can look perfectly normal."),
        steps=(
            Step("Which model regressed, and how far? Pass ratio per suite and model.", f"{RATIO}{own}",
                 branches=(("one model regressed", "did its provider change the model behind the same name? "
                                                   "→ step:provider"),
                           ("every model regressed", "our prompts, retrieval or tools changed → step:rollout"))),
            Step(f"Did the provider update the model? Its changelog and status page ({status_pages(service)}).",
                 key="provider",
                 branches=(("a new version shipped", "pin the previous version if the API allows it, or route the "
                                                    "model to its fallback; report the regression to the provider"),
                           ("nothing announced", "→ step:rollout"))),
            Step("Did a rollout change prompts, the retrieval index or tools before the drop?", command=k.history(),
                 key="rollout",
                 branches=(("yes", f"roll back: `{k.undo()}`, then rerun the suite"),
                           ("no", "→ step:cases"))),
            Step("Did the suite itself change? Cases per run.", f"{CASES}{own}", key="cases",
                 branches=(("the number of cases changed", "new or changed cases, not a product regression: "
                                                           "confirm with the suite's owners"),
                           ("same cases", f"read the failing cases in the eval tool; the page clears above {floor} "
                                          f"and within {drop} of the baseline"))),
        ),
        mitigation=("A regression that reaches users is an incident even when nothing errors: treat it like an "
                    "outage.",),
        queries=(history, Query("Age of the latest run (seconds)", f"{AGE}{own}")),
        history=(f"The comparison with the {w} baseline waits until the suite has {format_duration(cfg['baseline'])} "
                 f"of results on the model (a new suite, model or exporter has none); the {floor} floor applies "
                 "from the first run."),
    )
