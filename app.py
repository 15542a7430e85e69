"""Entry point: the navigation and the sidebar every page shares. Run with `make run`."""

import streamlit as st

from components.session import get_catalog
from components.sidebar import render_sidebar
from playground.catalog import CatalogError

st.set_page_config(page_title="Open/Closed Model Playground", page_icon=":material/balance:", layout="wide")

page = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/generate.py", title="Generate", icon=":material/edit_note:"),
        st.Page("pages/classify.py", title="Classify", icon=":material/label:"),
        st.Page("pages/caption.py", title="Caption", icon=":material/image:"),
        st.Page("pages/dashboard.py", title="Latency & cost", icon=":material/monitoring:"),
        st.Page("pages/arena.py", title="Arena", icon=":material/swords:"),
        st.Page("pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
        st.Page("pages/room.py", title="Room", icon=":material/school:"),
    ]
)
try:
    catalog = get_catalog()
except CatalogError as exc:  # a typo in a catalog file: say which entry, instead of a traceback on every page
    st.error(f"The model catalog could not be read. {exc}")
    st.stop()
render_sidebar(catalog)
page.run()
