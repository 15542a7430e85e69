"""The playground engine: catalog, backends, runner, metrics, pricing, history. No Streamlit in here."""
