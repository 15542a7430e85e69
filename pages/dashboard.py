"""Latency & cost: this visitor's recorded runs as charts, and where self-hosting an open model breaks even with an
API. Whose runs are shown is decided by the store's query (the session's scope), never by hiding rows here."""

import streamlit as st

from components import energy_view
from components.history_view import filters, render_charts, render_runs, whose_runs
from components.projection_view import render_projection
from components.session import get_catalog, get_store, scope
from playground.i18n import _

st.title(_("Latency & cost"))
catalog = get_catalog()
store = get_store()
viewer, room = whose_runs(scope())
everything = store.runs(scope=viewer, room=room)
pages, models, since = filters(catalog, everything)
runs = store.runs(pages=pages, models=models, since=since, room=room, scope=viewer)
done = runs[runs["error"].isna()]

if done.empty:
    st.info(_("No finished runs to show yet. Run some models on Generate, Classify or Caption, then come back here."))
else:
    render_charts(done)
    energy_view.show(done)
render_projection(catalog, runs)
render_runs(runs, viewer)
