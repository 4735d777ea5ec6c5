"""Coded errors: every failure a user can cause names itself with a short code and a fix.

Codes are stable (documented in the README) so scripts and the review app can react to them.
"""

from __future__ import annotations


class InsightError(Exception):
    """Base class: ``code`` is a short stable identifier, the message says what to do."""

    code = "E000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(f"[{self.code}] {message}")


class ConfigError(InsightError):
    code = "E100"


class InputError(InsightError):
    """An input file cannot be read at all (row-level problems go to quarantine instead)."""

    code = "E200"


class ComponentError(InsightError):
    """An unknown component name, or an optional package that is not installed."""

    code = "E300"


class StoreError(InsightError):
    code = "E400"


class ExportError(InsightError):
    code = "E500"


def missing_extra(package: str, extra: str) -> ComponentError:
    return ComponentError(
        f"the optional package {package!r} is not installed; install it with: pip install \"insight[{extra}]\"",
        code="E301",
    )
