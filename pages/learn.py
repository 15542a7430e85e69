"""Learn: what "open" means. The spectrum from closed API to fully open with every catalog model placed on it,
then the five dimensions (privacy, cost, transparency, community, commercial use), each with a prepared run."""

import streamlit as st

from components import learn_view
from components.session import credentials, get_catalog
from playground.i18n import _
from playground.lessons import DIMENSIONS, explanation, title, try_it

st.title(_("What “open” means"))
st.markdown(
    _(
        "“Open” is not one thing. The Model Openness Framework and the European Open Source AI Index treat it as a "
        "spectrum: from a model you can only call through its vendor's API, to open weights under a licence with "
        "restrictions, to open weights under a permissive licence, to weights, training data and training code all "
        "published. Every model of this playground sits somewhere on it: click one to open its card."
    )
)
catalog = get_catalog()
session_credentials = credentials(catalog)
learn_view.spectrum(catalog)

FACTS = {
    "privacy": learn_view.privacy_facts,
    "cost": learn_view.cost_and_energy,
    "transparency": learn_view.transparency_facts,
    "commercial": learn_view.commercial_facts,
}
for number, lesson in enumerate(DIMENSIONS, start=1):
    st.subheader(f"{number}. {title(lesson)}")
    st.markdown(explanation(lesson))
    if lesson in FACTS:
        FACTS[lesson](catalog)
    st.caption(try_it(lesson))
    learn_view.try_it_button(catalog, lesson, session_credentials)
