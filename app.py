"""Entry point: the navigation and the sidebar every page shares. Run with `make run`."""

import streamlit as st

from components.session import get_catalog
from components.sidebar import render_sidebar

st.set_page_config(page_title="Open/Closed Model Playground", page_icon=":material/balance:", layout="wide")

page = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/generate.py", title="Generate", icon=":material/edit_note:"),
    ]
)
render_sidebar(get_catalog())
page.run()
