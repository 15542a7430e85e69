"""The playground engine: catalog, backends, runner, metrics, pricing, store. No Streamlit in here."""
