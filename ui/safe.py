"""Customer words shown as what they are: text, never markdown.

Evidence, examples, labels and segment values come from customers and exports. Rendered as markdown, a review that
contains ``![x](https://tracker/pixel.png)`` loads an image from someone else's server when a CX lead opens the page,
and ``[refund here](https://phish)`` becomes a link. Every such string is escaped before it reaches ``st.markdown``.
"""

from __future__ import annotations

import re

# what makes links, images, emphasis, code, tables, headings, strike-through, HTML and maths; "-", "+" and "." only
# matter at the start of a line, and every string shown here follows a prefix of ours ("> ", "- ", a label)
_SPECIAL = re.compile(r"([\\`*_\[\]()#!|<>~$])")


def plain(text: object) -> str:
    """``text`` with every markdown control character escaped, so Streamlit shows it literally."""
    return _SPECIAL.sub(r"\\\1", "" if text is None else str(text))
