"""What the playground is, and every model in the catalog, grouped open vs closed, with whether it can run now."""

import pandas as pd
import streamlit as st

from components.session import credentials, get_catalog
from playground import availability
from playground.formatting import format_large
from playground.i18n import _
from playground.openness import destination, parse_params

st.title(_("Open/Closed Model Playground"))
with st.container(border=True):
    st.markdown(_("**Where to start**"))
    for page, icon, label in (
        ("room", ":material/school:", _("Teaching a workshop? Open a **Room**: students join by link or QR code.")),
        ("generate", ":material/edit_note:", _("On your own? **Generate**: one prompt, several models, side by side.")),
        (
            "arena",
            ":material/swords:",
            _("**Arena**: two anonymous models answer the same prompt; vote for the better."),
        ),
        ("leaderboard", ":material/leaderboard:", _("**Leaderboard**: the votes as ratings, with how sure they are.")),
    ):
        st.page_link(f"pages/{page}.py", label=label, icon=icon)
st.markdown(
    _(
        """
Run **open models** (weights you can download and run on this machine or your own server) next to **closed
models** (reached only through a vendor's API) on the same prompt, and see what differs: the answers, the
latency, the cost per call, and where your data goes.

- **Generate**: stream several models side by side, with time-to-first-token and tokens/s under each answer.
- **Classify**: a fine-tuned BERT, zero-shot open models and an LLM asked for a label, with probabilities and a
  batch evaluation on a labelled set.
- **Caption**: local captioners, a small vision-language model and API vision models on the same photo.
- **Latency & cost**: every run is measured and priced; see where self-hosting an open model breaks even with an API.
- **Learn**: what "open" means, from a closed API to weights, data and code, with a card for every model.
- Paste API keys in the sidebar (they stay in this browser session), or point the self-hosted endpoint at
  vLLM, Ollama or `transformers serve`.
"""
    )
)

catalog = get_catalog()
session_credentials = credentials(catalog)
TASKS = {"generate": _("generate"), "classify": _("classify"), "caption": _("caption")}
for openness, heading in (("open", _("Open models")), ("closed", _("Closed models"))):
    st.subheader(heading)
    rows = []
    for spec in catalog.models.values():
        if spec.openness != openness:
            continue
        provider = catalog.provider_of(spec)
        rows.append(
            {
                _("Model"): spec.display_name,
                _("Status"): availability(catalog, spec, session_credentials).status,
                _("License"): catalog.license_of(spec.license).display_name,
                _("Parameters"): format_large(count) if (count := parse_params(spec.params)) else _("not published"),
                _("Tasks"): ", ".join(TASKS.get(t, t) for t in spec.tasks),
                _("Where prompts go"): destination(catalog, spec).value,
                _("Provider"): provider.display_name,
            }
        )
    # tall enough for every row: a teacher scrolls the page, not a small box inside it
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=36 * (len(rows) + 1) + 2)
