"""A prompt set as a room exercise: a student runs it on the exercise's models, the instructor's live view adds up
the class's pass rates per model. The run is the prompt-sets page's own (``start_prompt_set``), tagged with the
room; the matrix a student follows is that page's too."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.prompt_sets_view import show_run
from components.session import get_playground, get_store, run_context, scope, session_id
from components.settings import run_settings
from playground import Catalog, Credentials, InputError, rooms, start_prompt_set
from playground.i18n import _
from playground.prompt_sets import from_data


def run_exercise(
    catalog: Catalog, exercise: rooms.Exercise, credentials: Credentials, code: str, run_now: bool
) -> None:
    """Start the set on the exercise's models when ``run_now``, then follow this session's newest run of it in the
    room, read from the store: it goes on through reruns and a closed tab."""
    prompt_set = from_data(exercise.prompt_set)
    if run_now:
        try:
            start_prompt_set(
                get_playground(), prompt_set, list(exercise.models), exercise.params, credentials,
                run_context("prompt_sets", room=code), run_settings(),
            )  # fmt: skip
        except InputError as exc:
            st.error(f"{exc.message} {exc.hint or ''}".strip())
            return
    mine = [
        r
        for r in get_store().room_prompt_set_runs(code, scope())
        if r["session_id"] == session_id() and (r["set_name"], r["models"]) == (prompt_set.name, list(exercise.models))
    ]  # this exercise's runs: the same set on the same models
    if mine:
        show_run(catalog, mine[0]["id"], credentials, again=False)


def pass_rate_chart(catalog: Catalog, table: pd.DataFrame, set_name: str) -> go.Figure:
    """One bar per model, labelled "passed / answered" outside the bar, so a model that passed nothing shows 0 / n."""
    names = [catalog.name_of(m) for m in table["model_id"]]
    fig = go.Figure(
        go.Bar(
            x=table["pass_rate"], y=names, orientation="h", textposition="outside", cliponaxis=False,
            text=[f"{p} / {c}" for p, c in zip(table["passed"], table["cells"])],
        )
    )  # fmt: skip
    fig.update_layout(
        title=_("Pass rate by model, the class's runs of {name}").format(name=set_name),
        xaxis=dict(title=_("pass rate"), tickformat=".0%", range=[0, 1.12], tickvals=[0, 0.25, 0.5, 0.75, 1]),
        yaxis=dict(autorange="reversed"),  # the table's order, top to bottom
        height=max(200, 60 * len(names) + 140), margin=dict(l=10, r=10, t=40, b=10),
    )  # fmt: skip
    return fig


def render_class_results(catalog: Catalog, code: str) -> None:
    """Each prompt set the class ran here, newest first: every student's answers added up per model. Verdicts and
    counts only; the instructor reads the room's runs (``Scope.instructs``), a student would get only their own."""
    table = rooms.class_pass_rates(get_store().room_prompt_set_cells(code, scope()))
    for set_name, part in table.groupby("set_name", sort=False):
        st.plotly_chart(pass_rate_chart(catalog, part, set_name), key=f"room_pass_rate_{set_name}")
        titles = {
            "model_id": _("Model"), "students": _("Students"), "runs": _("Runs"), "cells": _("Answers"),
            "passed": _("Passed"), "pass_rate": _("Pass rate"),
        }  # fmt: skip
        shown = part.drop(columns="set_name").assign(model_id=[catalog.name_of(m) for m in part["model_id"]])
        st.dataframe(
            shown.rename(columns=titles),  # the headers themselves, so they are in the page's language
            hide_index=True,
            column_config={titles["pass_rate"]: st.column_config.NumberColumn(format="percent")},
        )
