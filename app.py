"""The insight review app: ``insight app`` (or ``streamlit run app.py``).

Only navigation lives here; each page under ``ui/`` signs the user in (``ui/auth.py``) and renders what
``ui/data.py`` loads from the store.
"""

import streamlit as st

st.set_page_config(page_title="insight review", page_icon=":mag:", layout="wide")

pages = [
    st.Page("ui/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("ui/themes.py", title="Themes", icon=":material/category:"),
    st.Page("ui/review.py", title="Review", icon=":material/rate_review:"),
    st.Page("ui/actions.py", title="Actions", icon=":material/task_alt:"),
    st.Page("ui/runs.py", title="Runs", icon=":material/history:"),
]
st.navigation(pages).run()
