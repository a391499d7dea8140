"""Write a segment's `⟦n⟧` tokens as XLIFF inline codes that say what they stand for.

XLIFF 2.1: a pair that nests is `<pc dispStart="bold" …>text</pc>`; a pair that crosses
another is `<sc/>`…`<ec/>`; anything else is `<ph disp="…" equiv="…"/>`. Each code points
(`dataRef`, `dataRefStart`/`dataRefEnd`) at its source markup in the unit's
`<originalData>`, which is also how the importer knows which `⟦n⟧` a code stands for.
XLIFF 1.2: `<bpt>`/`<ept>` for pairs and `<ph>` otherwise, holding the source markup, with
`ctype` and `equiv-text`. Without codes (units built by hand) every token is a bare
placeholder, as before. Reading these back is `_exchange_xml.read_inline`'s job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from tl_loop.kb._exchange_xml import TOKEN_NUMBER, write_plain
from tl_loop.kb._inline_codes import InlineCode, describe, pair_up

__all__ = ["data_id", "write_xliff12", "write_xliff21"]

_CTYPES = {"bold": "bold", "italic": "italic", "underline": "underlined", "link": "link"}


def data_id(number: int) -> str:
    """The `<data>` id holding the source markup of token `number`."""
    return f"d{number}"


def _set(element: Any, **attributes: str) -> None:
    for name, value in attributes.items():
        if value:
            element.set(name, value)


def write_xliff21(
    element: Any,
    text: str,
    codes: Sequence[InlineCode],
    *,
    sub: Callable[[Any, str], Any],
    code_point: Callable[[Any, int], None],
    where: str,
) -> None:
    """Fill a 2.1 `<source>`/`<target>` with `text`; `sub(parent, name)` adds a child."""
    matches = list(TOKEN_NUMBER.finditer(text))
    pairs = pair_up([int(m.group(1)) for m in matches], codes)
    closers = {close: (opener, nested) for opener, (close, nested) in pairs.items()}
    seen: Counter[int] = Counter()
    stack, position = [element], 0
    for match in matches:
        write_plain(stack[-1], text[position : match.start()], code_point, where)
        position, number = match.end(), int(match.group(1))
        seen[number] += 1
        ident = str(number) if seen[number] == 1 else f"{number}-{seen[number]}"
        if number >= len(codes):
            sub(stack[-1], "ph").set("id", ident)
            continue
        shown = describe(codes[number])
        if number in pairs and pairs[number][1]:
            close = pairs[number][0]
            end = describe(codes[close])
            code = sub(stack[-1], "pc")
            _set(code, id=ident, dataRefStart=data_id(number), dataRefEnd=data_id(close))
            start_disp, end_disp = shown.disp, end.disp
            if end_disp.startswith("/"):  # `](url)` closes a link: name the URL up front
                start_disp, end_disp = end_disp[1:], end_disp.split(" ")[0]
            elif end_disp == start_disp:  # `**`…`**`: bold … /bold
                end_disp = f"/{end_disp}"
            _set(code, dispStart=start_disp, dispEnd=end_disp, type=shown.type)
            _set(code, equivStart=shown.equiv, equivEnd=end.equiv)
            stack.append(code)
        elif number in closers and closers[number][1]:
            stack.pop()
        elif number in closers:
            code = sub(stack[-1], "ec")
            _set(code, startRef=str(closers[number][0]), dataRef=data_id(number))
            _set(code, disp=shown.disp, equiv=shown.equiv, type=shown.type)
        else:
            code = sub(stack[-1], "sc" if number in pairs else "ph")
            _set(code, id=ident, dataRef=data_id(number))
            _set(code, disp=shown.disp, equiv=shown.equiv, type=shown.type)
    write_plain(stack[-1], text[position:], code_point, where)


def write_xliff12(
    element: Any,
    text: str,
    codes: Sequence[InlineCode],
    *,
    sub: Callable[[Any, str], Any],
    where: str,
) -> None:
    """Fill a 1.2 `<source>`/`<target>` with `text`; `sub(parent, name)` adds a child."""
    matches = list(TOKEN_NUMBER.finditer(text))
    pairs = pair_up([int(m.group(1)) for m in matches], codes)
    closers = {close: opener for opener, (close, _) in pairs.items()}
    seen: Counter[int] = Counter()
    position = 0
    for match in matches:
        write_plain(element, text[position : match.start()], None, where)
        position, number = match.end(), int(match.group(1))
        seen[number] += 1
        ident = str(number) if seen[number] == 1 else f"{number}-{seen[number]}"
        if number >= len(codes):
            sub(element, "x").set("id", ident)
            continue
        shown = describe(codes[number])
        name = "bpt" if number in pairs else "ept" if number in closers else "ph"
        code = sub(element, name)
        rid = str(closers.get(number, number)) if name != "ph" else ""
        label = shown.disp.lstrip("/").split(" ")[0]
        ctype = _CTYPES.get(label, "image" if shown.type == "image" else f"x-{shown.type}")
        _set(code, id=ident, rid=rid)
        _set(code, ctype=ctype if name != "ept" else "")
        _set(code, **{"equiv-text": shown.equiv})
        write_plain(code, codes[number].original, None, where)
    write_plain(element, text[position:], None, where)
