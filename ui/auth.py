"""Who is using the app: a login (``st.login``, OIDC from ``.streamlit/secrets.toml``) when roles are configured,
else local mode, which the sidebar marks as such.

The role shown here only decides which forms a page offers. The store checks the role again on every write,
from the config as it is then, so a reviewer demoted to viewer while the page is open is refused (E801), and a
page that forgets to hide a form cannot let a viewer write.
"""

from __future__ import annotations

import streamlit as st

from insight.access import ROLES, Actor, Policy
from ui import data

KEY = "insight-actor"
NAME = "insight-name"  # local mode's name, kept across pages (a widget's own state ends with its page)


def _policy() -> Policy:
    return Policy.from_config(data.settings().access)


def sign_in() -> None:
    """Render the sidebar's identity box; stop the page (with a login button) when a login is needed."""
    policy = _policy()
    if policy.local:
        st.sidebar.caption(":material/lock_open: **Local mode**: no login. Anyone who can open this page can "
                           "review, and names are not checked. Set `access.roles` and an `[auth]` provider for a "
                           "team (see docs/app.md).")
        if "me" not in st.session_state and NAME in st.session_state:  # the page before had it: keep it
            st.session_state["me"] = st.session_state[NAME]
        name = st.sidebar.text_input("Your name (kept with every change)", key="me")
        st.session_state[NAME] = name
        st.session_state[KEY] = (Actor(name.strip()), "local") if name.strip() else None
        return
    if not st.user.get("is_logged_in"):
        st.title("insight review")
        st.write("Log in to see this store's feedback.")
        st.button("Log in", on_click=st.login, type="primary")
        st.caption("Roles are configured (`access.roles`), so the app needs a login provider: add an `[auth]` "
                   "section to `.streamlit/secrets.toml` (docs/app.md).")
        st.stop()
    actor = Actor(str(st.user.get("email") or st.user.get("name") or ""), tuple(st.user.get("groups") or ()))
    signed = st.session_state.get(KEY)
    if signed is None or signed[0] != actor or signed[1] == "local":  # the role as of login, for the forms shown
        st.session_state[KEY] = (actor, policy.role_of(actor))
    actor, role = st.session_state[KEY]
    if role is None:
        st.error(f"{actor.name} has no access to this store. An admin can add you to `access.roles`.")
        st.stop()
    st.sidebar.caption(f":material/person: {actor.name} · {role}")
    st.sidebar.button("Log out", on_click=st.logout, key="logout")


def actor() -> Actor | None:
    """Who makes the changes on this page (None in local mode until a name is given)."""
    signed = st.session_state.get(KEY)
    return signed[0] if signed else None


def may(needed: str = "reviewer") -> bool:
    """Whether to offer the forms that need ``needed``: local mode offers them all."""
    signed = st.session_state.get(KEY)
    if signed is None:
        return _policy().local
    role = signed[1]
    return role == "local" or (role in ROLES and ROLES.index(role) >= ROLES.index(needed))
