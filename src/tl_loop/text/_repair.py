"""Repair text that cannot be stored or encoded: lone UTF-16 surrogates and NUL characters.

A webhook's JSON may hold `"\\ud83d"`, half of an emoji cut by a client that truncated UTF-16;
Python then holds a lone surrogate, which no UTF-8 encoder accepts (language detection, SQLite,
HTTP bodies all fail on it). PostgreSQL refuses NUL in text. Both are repaired where text enters
tl_loop, never refused: a customer's message with a broken emoji must still reach the agent.
"""

from __future__ import annotations

__all__ = ["REPLACEMENT", "repair_text"]

REPLACEMENT = "\ufffd"
"""What a lone surrogate becomes: U+FFFD REPLACEMENT CHARACTER, as a UTF-8 decoder would do."""


def repair_text(text: str) -> str:
    """`text` with surrogate pairs joined, lone surrogates replaced by U+FFFD and NUL removed.

    ```python
    assert repair_text("ok \\ud83d") == "ok \\ufffd"
    assert repair_text("\\ud83d\\ude00") == "\\U0001f600"
    ```
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Pairs written as two escapes are joined; what is left alone becomes U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
