"""Streamlit pieces the pages share. The engine lives in playground/ and knows nothing of these."""
