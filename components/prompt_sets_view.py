"""What the prompt-sets page draws: choosing a set, following a run, and the matrix (rows = prompts, columns =
models) with its filters, manual verdicts, pass rates, charts, exports and the diff against an earlier run.

The run itself lives in the engine (``playground.start_prompt_set``); everything here reads the store, so a page
opened in a new tab, or after a rerun, shows the same run.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

import playground.prompt_set_report as report
from components.classify_view import accuracy_scatter, show_model_table
from components.language import fixed_labels
from components.session import get_playground, get_store, run_context, session_id
from components.settings import run_settings
from playground import (
    Catalog,
    Credentials,
    GenParams,
    InputError,
    PromptSet,
    built_in_sets,
    live_run,
    load_built_in,
    read_upload,
    start_prompt_set,
)
from playground.formatting import format_seconds, format_usd
from playground.i18n import _, is_chinese
from playground.prompt_set_runs import RUNNING, Progress, can_judge
from playground.prompt_sets import MAX_ROWS, from_data

FOLLOW_EVERY_S = 2.0
RUN = "run"  # the query parameter (and session key) that names the run shown
MARKS = {"pass": "✓", "fail": "✗", "not judged": "–", "error": "⚠"}  # drawn by common fonts, in tables too


def verdict_names() -> dict[str, str]:
    return {"pass": _("pass"), "fail": _("fail"), "not judged": _("not judged"), "error": _("error")}


def choose_set(catalog: Catalog) -> PromptSet | None:
    """A built-in set in the page's language, or an upload; an invalid upload says why and gives None."""
    sets = built_in_sets()
    mine = "-zh" if is_chinese() else "-en"  # the sets written in the page's language, the quick one first
    keys = sorted((k for k in sets if k.endswith(mine)), key=lambda k: (k != f"quick{mine}", k))
    source = st.radio(
        _("Prompt set"),
        ["built-in", "upload"],
        format_func=fixed_labels(["built-in", "upload"], lambda s: _("Built-in") if s == "built-in" else _("Upload")),
        horizontal=True,
        key="prompt_sets_source",
    )
    if source == "built-in":
        key = st.selectbox(_("Built-in set"), keys, format_func=sets.get, key="prompt_sets_builtin")
        prompt_set = load_built_in(key)
    else:
        upload = st.file_uploader(
            _("CSV or YAML (UTF-8), at most {n} rows").format(n=MAX_ROWS),
            type=["csv", "yaml", "yml"],
            key="prompt_sets_upload",
            help=_("CSV columns: prompt, and any of id, system, reference, contains, not_contains, regex, equals, "
                   "json, min_chars, max_chars, latency, cost, similar, judge_model, judge_rubric, var:<name>."),
        )  # fmt: skip
        if upload is None:
            return None
        try:
            prompt_set = read_upload(upload.name, upload.getvalue(), lambda m: can_judge(catalog, m))
        except InputError as exc:
            st.error(f"{upload.name}: {exc.message}" + (f" {exc.hint}" if exc.hint else ""))
            return None
    st.caption(
        _("{name}: {n} prompts. {description}").format(
            name=prompt_set.name, n=len(prompt_set.rows), description=prompt_set.description
        )
    )
    return prompt_set


def start(prompt_set: PromptSet, model_ids: list[str], params: GenParams, credentials: Credentials, rerun_of=None):
    """Start the run in the engine and show it: its id goes into the URL, so a new tab finds it again."""
    run = start_prompt_set(
        get_playground(),
        prompt_set,
        model_ids,
        params,
        credentials,
        run_context("prompt_sets"),
        run_settings(),
        rerun_of,
    )
    st.session_state.setdefault("prompt_sets_mine", []).append(run.id)
    st.query_params[RUN] = run.id


def shown_run_id() -> str | None:
    return st.query_params.get(RUN)


def show_run(catalog: Catalog, run_id: str, credentials: Credentials, again: bool = True) -> None:
    """A run from the store: followed while it goes, then its scores and matrix; with ``again``, its exports, a
    rerun and the diff (a room's exercise runs the set the instructor handed out, not a rerun of the student's)."""
    store = get_store()
    run = store.prompt_set_run(run_id)
    if run is None:
        st.warning(_("There is no prompt-set run with this link."))
        return
    if run["status"] == RUNNING:
        follow(catalog, run_id)
        return
    cells = store.prompt_set_cells(run_id)
    if run["status"] != "done":
        status = {"cancelled": _("cancelled"), "failed": _("stopped by an error")}.get(run["status"], run["status"])
        st.warning(_("This run was {status}: {n} cells were answered.").format(status=status, n=len(cells)))
    show_scores(catalog, run, cells)
    show_matrix(catalog, run, cells)
    if again:
        show_exports_and_rerun(catalog, run, cells, credentials)


def follow(catalog: Catalog, run_id: str) -> None:
    """Progress, ETA, cancel and the cells so far, as a fragment that reruns itself until the run ends."""

    @st.fragment(run_every=FOLLOW_EVERY_S)
    def _follow() -> None:
        store = get_store()
        run = store.prompt_set_run(run_id)
        if run["status"] != RUNNING:
            st.rerun()  # the whole page: the finished report replaces this view
        cells = store.prompt_set_cells(run_id)
        total = len(run["prompt_set"]["rows"]) * len(run["models"])
        progress = Progress(len(cells), total, time.time() - run["created_at"], RUNNING)
        eta = progress.eta_s
        st.progress(
            min(1.0, progress.done / total),
            text=_("{done} of {total} cells").format(done=progress.done, total=total)
            + (" · " + _("about {s} left").format(s=format_seconds(eta, 0)) if eta is not None else ""),
        )
        if (live := live_run(run_id)) is not None and st.button(_("Cancel the run"), key="prompt_sets_cancel"):
            live.cancel()
        show_matrix(catalog, run, cells, details=False)

    _follow()


def show_scores(catalog: Catalog, run: dict, cells: list[dict]) -> None:
    scores = report.scores(run, cells)
    table = pd.DataFrame(
        [
            {
                "Model": catalog.get(s.model_id).display_name,
                "Openness": catalog.get(s.model_id).openness,
                "Pass rate": s.pass_rate,
                "Passed": s.passed,
                "Failed": s.failed,
                "Not judged": s.not_judged,
                "Mean latency (s)": s.mean_latency_s,
                "Cost (USD)": s.cost_usd,
            }
            for s in scores
        ]
    )
    titles = {
        "Model": _("Model"),
        "Openness": _("Openness"),
        "Pass rate": _("Pass rate"),
        "Passed": _("Passed"),
        "Failed": _("Failed"),
        "Not judged": _("Not judged"),
        "Mean latency (s)": _("Mean latency (s)"),
        "Cost (USD)": _("Cost (USD)"),
    }
    show_model_table(
        table,
        titles,
        {
            titles["Pass rate"]: st.column_config.NumberColumn(format="percent"),
            titles["Mean latency (s)"]: st.column_config.NumberColumn(
                format="%.2f", help=_("The model's own time per answer: wait in line and model load left out.")
            ),
            titles["Cost (USD)"]: st.column_config.NumberColumn(format="$%.6f"),
        },
    )
    plotted = table.dropna(subset=["Pass rate"])
    if plotted.empty:
        return
    left, right = st.columns(2)
    y = dict(y="Pass rate", y_title=_("pass rate"))
    left.plotly_chart(
        accuracy_scatter(plotted.dropna(subset=["Mean latency (s)"]), "Mean latency (s)", _("Pass rate against latency"), **y),
        key="prompt_sets_latency",
    )  # fmt: skip
    if not (priced := plotted.dropna(subset=["Cost (USD)"])).empty:
        right.plotly_chart(
            accuracy_scatter(priced, "Cost (USD)", _("Pass rate against cost of the run"), **y), key="prompt_sets_cost"
        )


def _cell_summary(cell: dict | None) -> str:
    if cell is None:
        return "…"
    verdict = report.verdict_of(cell)
    parts = [f"{MARKS[verdict]} {verdict_names()[verdict]}" + (" ✎" if cell["manual_verdict"] else "")]
    if checks := cell["checks"]:
        parts.append(f"{sum(bool(c['passed']) for c in checks)}/{len(checks)}")
    if cell["latency_s"] is not None:
        parts.append(format_seconds(cell["latency_s"], 1))
    if cell["tokens_out"] is not None:
        parts.append(_("{n} tok").format(n=cell["tokens_out"]))
    if cell["cost_usd"] is not None:
        parts.append(format_usd(cell["cost_usd"]))
    return " · ".join(parts)


def show_matrix(catalog: Catalog, run: dict, cells: list[dict], details: bool = True) -> None:
    rows = run["prompt_set"]["rows"]
    by_key = report.cells_by_key(cells)
    shown = list(range(len(rows)))
    if details:
        left, right = st.columns(2)
        if left.toggle(_("Failures only"), key="prompt_sets_failures"):
            shown = [i for i in shown if i in report.failing_rows(cells)]
        if right.toggle(_("Rows where models disagree"), key="prompt_sets_disagree"):
            shown = [i for i in shown if i in report.disagreeing_rows(cells)]
    names = {m: catalog.name_of(m) for m in run["models"]}
    matrix = pd.DataFrame(
        [
            {_("Prompt"): f"{rows[i]['id']}: {rows[i]['prompt']}"}
            | {names[m]: _cell_summary(by_key.get((i, m))) for m in run["models"]}
            for i in shown
        ],
        columns=[_("Prompt"), *names.values()],
    )
    st.dataframe(matrix, hide_index=True, width="stretch", key=f"prompt_sets_matrix_{details}")
    if details:
        for i in shown:
            with st.expander(f"{rows[i]['id']}: {rows[i]['prompt'][:90]}"):
                if rows[i]["reference"]:
                    st.caption(_("Reference: {text}").format(text=rows[i]["reference"]))
                for column, m in zip(st.columns(len(run["models"])), run["models"]):
                    with column:
                        show_cell(run["id"], names[m], by_key.get((i, m)))


def show_cell(run_id: str, name: str, cell: dict | None) -> None:
    st.markdown(f"**{name}**")
    if cell is None:
        st.caption(_("No answer."))
        return
    st.markdown(_cell_summary(cell))
    if cell["error"]:
        st.error(cell["error"])
    st.text(cell["answer"] if cell["answer"] is not None else _("(not stored: history keeps metrics only)"))
    for check in cell["checks"]:
        mark = MARKS["pass" if check["passed"] else "fail" if check["passed"] is False else "not judged"]
        st.caption(f"{mark} {check['label']}" + (f": {check['detail']}" if check["detail"] else ""))
    key = f"prompt_sets_cell_{cell['row_index']}_{cell['model_id']}"
    with st.form(key):
        options = ["checks", "pass", "fail"]
        labels = {"checks": _("as checked"), "pass": _("pass"), "fail": _("fail")}
        manual = st.radio(
            _("Your verdict"),
            options,
            index=options.index(cell["manual_verdict"] or "checks"),
            format_func=fixed_labels(options, labels.get),
            horizontal=True,
        )
        comment = st.text_input(_("Comment"), value=cell["comment"] or "")
        if st.form_submit_button(_("Save")):
            get_store().mark_cell(
                run_id, cell["row_index"], cell["model_id"], None if manual == "checks" else manual, comment
            )
            st.rerun()


def show_exports_and_rerun(catalog: Catalog, run: dict, cells: list[dict], credentials: Credentials) -> None:
    left, middle, right = st.columns(3)
    name = f"prompt-set-{run['id'][:8]}"
    left.download_button(_("Export CSV"), report.to_csv(run, cells), f"{name}.csv", "text/csv", key="prompt_sets_csv")
    middle.download_button(
        _("Export JSON"), report.to_json(run, cells), f"{name}.json", "application/json", key="prompt_sets_json"
    )
    if right.button(_("Run again and compare"), key="prompt_sets_rerun", icon=":material/replay:"):
        start(from_data(run["prompt_set"]), run["models"], GenParams(**run["params"]), credentials, rerun_of=run["id"])
        st.rerun()
    show_diff(run, cells)


def show_diff(run: dict, cells: list[dict]) -> None:
    store = get_store()
    earlier = [
        r for r in store.prompt_set_runs(session_id=session_id(), set_name=run["set_name"]) if r["id"] != run["id"]
    ]
    if run["rerun_of"] and run["rerun_of"] not in [r["id"] for r in earlier]:
        earlier.insert(0, store.prompt_set_run(run["rerun_of"]))
    earlier = [r for r in earlier if r is not None and r["created_at"] < run["created_at"]]
    if not earlier:
        return
    st.subheader(_("Compare with an earlier run"))
    ids = [r["id"] for r in earlier]
    when = {r["id"]: time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_at"])) for r in earlier}
    chosen = st.selectbox(
        _("Earlier run"),
        ids,
        index=ids.index(run["rerun_of"]) if run["rerun_of"] in ids else 0,
        format_func=fixed_labels(ids, lambda i: f"{when[i]} · {i[:8]}"),
        key="prompt_sets_diff",
    )
    changes = report.diff((store.prompt_set_run(chosen), store.prompt_set_cells(chosen)), (run, cells))
    kinds = {"fixed": _("fixed"), "broken": _("broken"), "changed": _("changed"), "same": _("same")}
    moved = [c for c in changes if c.kind != "same"]
    st.caption(
        _("{moved} of {n} cells changed verdict: {fixed} fixed, {broken} broken.").format(
            moved=len(moved),
            n=len(changes),
            fixed=sum(c.kind == "fixed" for c in changes),
            broken=sum(c.kind == "broken" for c in changes),
        )
    )
    names = verdict_names()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("Row"): c.row_id,
                    _("Model"): c.model_id,
                    _("Before"): names.get(c.before, "—"),
                    _("Now"): names[c.after],
                    _("Change"): kinds[c.kind],
                }
                for c in moved
            ],
            columns=[_("Row"), _("Model"), _("Before"), _("Now"), _("Change")],
        ),
        hide_index=True,
        width="stretch",
        key="prompt_sets_diff_table",
    )
