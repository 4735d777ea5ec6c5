"""Streamlit pages of the review app. Pages only render; loading and caching live in ``ui/data.py``."""
