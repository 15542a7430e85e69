"""Tokens: the same text as each model's tokenizer cuts it, what it costs as input, and English against Chinese."""

import streamlit as st

from components import tokens_view
from components.session import get_catalog, get_store
from playground import look_all
from playground.i18n import _

st.title(_("Tokens: how each model reads your text"))
st.markdown(
    _(
        "Models do not read letters or words but **tokens**, pieces cut by each model's own tokenizer, and an API "
        "bills every token. The same sentence can be 20 tokens for one model and 45 for another, and Chinese often "
        "takes more tokens than English. Hover over a piece to see its token id."
    )
)
catalog = get_catalog()
text, model_ids = tokens_view.inputs(catalog)
if not text.strip():
    st.info(_("Type or paste a text to see its tokens."))
for lens in look_all(catalog, model_ids, text, get_store()) if text.strip() else []:
    tokens_view.show(lens)

st.subheader(_("English against Chinese"))
tokens_view.language_chart(catalog, model_ids)
