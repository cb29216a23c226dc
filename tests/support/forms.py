"""Reading the sandbox's candidate pages as a browser posts them: their hidden form fields."""

from __future__ import annotations

import re

_HIDDEN = re.compile(r"<input type='hidden' name='(\w+)' value='([^']*)'>")


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs (CSRF token, step, start key) of a candidate page's form, by name."""
    return dict(_HIDDEN.findall(html))
