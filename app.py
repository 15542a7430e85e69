"""Entry point: the navigation and the sidebar every page shares. Run with `make run`."""

import time
from pathlib import Path

import streamlit as st

from components.language import apply_language
from components.session import RERUN_STARTED, get_catalog, remember_visitor
from components.sidebar import render_sidebar
from playground.catalog import CatalogError
from playground.i18n import _

st.session_state[RERUN_STARTED] = time.perf_counter()  # a click's request arrives here: the clock starts now
apply_language()  # first: every text below, page titles included, is in the session's language
# A local favicon: a material icon here (or a page's icon, used when none is set) makes every visitor's browser fetch
# it from Google's font server, which a tool about where your data goes must not do.
ICON = Path(__file__).with_name("assets") / "icon.png"
st.set_page_config(page_title=_("Open/Closed Model Playground"), page_icon=str(ICON), layout="wide")

page = st.navigation(
    [
        st.Page("pages/home.py", title=_("Home"), icon=":material/home:", default=True),
        st.Page("pages/generate.py", title=_("Generate"), icon=":material/edit_note:"),
        st.Page("pages/classify.py", title=_("Classify"), icon=":material/label:"),
        st.Page("pages/prompt_sets.py", title=_("Prompt sets"), icon=":material/table_view:"),
        st.Page("pages/caption.py", title=_("Caption"), icon=":material/image:"),
        st.Page("pages/dashboard.py", title=_("Latency & cost"), icon=":material/monitoring:"),
        st.Page("pages/tokens.py", title=_("Tokens"), icon=":material/token:"),
        st.Page("pages/arena.py", title=_("Arena"), icon=":material/swords:"),
        st.Page("pages/leaderboard.py", title=_("Leaderboard"), icon=":material/leaderboard:"),
        st.Page("pages/room.py", title=_("Room"), icon=":material/school:"),
        st.Page("pages/learn.py", title=_("Learn: what “open” means"), icon=":material/lightbulb:"),
    ]
)
try:
    catalog = get_catalog()
except CatalogError as exc:  # a typo in a catalog file: say which entry, instead of a traceback on every page
    st.error(_("The model catalog could not be read. {error}").format(error=exc))
    st.stop()
render_sidebar(catalog)
with st.sidebar:
    remember_visitor()  # before the page: a page may stop early
page.run()
