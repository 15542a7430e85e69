"""What the playground is, and every model in the catalog, grouped open vs closed, with whether it can run now."""

import pandas as pd
import streamlit as st

from components.session import credentials, get_catalog
from playground import availability

st.title("Open/Closed Model Playground")
st.markdown(
    """
Run **open models** (weights you can download and run on this machine or your own server) next to **closed
models** (reached only through a vendor's API) on the same prompt, and see what differs: the answers, the
latency, the cost per call, and where your data goes.

- **Generate**: stream several models side by side, with time-to-first-token and tokens/s under each answer.
- **Classify**: a fine-tuned BERT, zero-shot open models and an LLM asked for a label, with probabilities and a
  batch evaluation on a labelled set.
- **Caption**: local captioners, a small vision-language model and API vision models on the same photo.
- **Latency & cost**: every run is measured and priced; see where self-hosting an open model breaks even with an API.
- Paste API keys in the sidebar (they stay in this browser session), or point the self-hosted endpoint at
  vLLM, Ollama or `transformers serve`.
"""
)

catalog = get_catalog()
session_credentials = credentials(catalog)
for openness, heading in (("open", "Open models"), ("closed", "Closed models")):
    st.subheader(heading)
    rows = []
    for spec in catalog.models.values():
        if spec.openness != openness:
            continue
        provider = catalog.provider_of(spec)
        rows.append(
            {
                "Model": spec.name,
                "Status": availability(catalog, spec, session_credentials).status,
                "License": spec.license,
                "Parameters": spec.params or "not published",
                "Tasks": ", ".join(spec.tasks),
                "Where prompts go": provider.hosting,
                "Provider": provider.name,
            }
        )
    # tall enough for every row: a teacher scrolls the page, not a small box inside it
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=36 * (len(rows) + 1) + 2)
