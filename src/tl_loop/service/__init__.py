"""The old name of `tl_loop.relay`, kept so existing imports and `python -m tl_loop.service` work.

New code imports `tl_loop.relay`. Names are looked up on the relay when first used, so this
alias loads nothing the relay itself would not.
"""

from __future__ import annotations

from typing import Any

from tl_loop import relay as _relay

__all__ = list(_relay.__all__)


def __getattr__(name: str) -> Any:
    return getattr(_relay, name)
