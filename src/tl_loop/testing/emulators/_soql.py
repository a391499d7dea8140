"""The SOQL subset the Salesforce emulator answers, and only that.

`SELECT f, g.h, (SELECT … FROM ChildRelationship WHERE … ORDER BY … LIMIT n) FROM Object
[WHERE a = 'x' AND b = true] [ORDER BY f [ASC|DESC]] [LIMIT n]`: equality conditions joined
by AND, one sort field, parent fields one level up (`CreatedBy.UserType`), child relationship
subqueries. Anything else is refused with `MALFORMED_QUERY`, the way Salesforce refuses what
it cannot parse, so an adapter cannot come to rely on something the emulator made up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Query", "SoqlError", "parse_soql"]


class SoqlError(Exception):
    """A query the emulator refuses, with Salesforce's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query."""

    fields: tuple[str, ...]
    subqueries: tuple[Query, ...]
    source: str
    where: tuple[tuple[str, Any], ...] = ()
    order: tuple[str, bool] | None = None  # field, descending
    limit: int | None = None
    children: Mapping[str, Query] = field(default_factory=dict)

    def run(
        self,
        rows: list[dict[str, Any]],
        *,
        lookup: Callable[[str, str], Any],
    ) -> list[dict[str, Any]]:
        """The matching rows, sorted and limited, restricted to the selected fields."""
        for name, _ in self.where:
            _require_field(name, rows)
        kept = [row for row in rows if all(_value(row, n, lookup) == v for n, v in self.where)]
        if self.order is not None:
            name, descending = self.order
            kept.sort(key=lambda row: str(_value(row, name, lookup) or ""), reverse=descending)
        return kept[: self.limit] if self.limit is not None else kept


_CLAUSES = re.compile(
    r"^\s*FROM\s+(?P<source>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+(?:\.\w+)?)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(\w+(?:\.\w+)?)\s*=\s*('(?:[^'\\]|\\.)*'|true|false|-?\d+)\s*$", re.I)


def parse_soql(text: str) -> Query:
    """Parse the supported subset.

    Raises:
        SoqlError: `MALFORMED_QUERY` for anything outside it.
    """
    select, rest = _split_select(text.strip())
    match = _CLAUSES.match(rest)
    if match is None:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token in query: {text[:120]!r}")
    fields: list[str] = []
    subqueries: list[Query] = []
    for item in _split_top_level(select):
        if item.startswith("("):
            subqueries.append(parse_soql(item[1:-1]))
        elif re.fullmatch(r"\w+(?:\.\w+)?", item):
            fields.append(item)
        else:
            raise SoqlError("MALFORMED_QUERY", f"unexpected select item {item!r}")
    where: list[tuple[str, Any]] = []
    if match.group("where"):
        for condition in re.split(r"\s+AND\s+", match.group("where"), flags=re.IGNORECASE):
            parsed = _CONDITION.match(condition)
            if parsed is None:
                raise SoqlError("MALFORMED_QUERY", f"unsupported condition {condition!r}")
            where.append((parsed.group(1), _literal(parsed.group(2))))
    order = None
    if match.group("order"):
        order = (match.group("order"), (match.group("direction") or "").upper() == "DESC")
    limit = int(match.group("limit")) if match.group("limit") else None
    return Query(
        fields=tuple(fields),
        subqueries=tuple(subqueries),
        source=match.group("source"),
        where=tuple(where),
        order=order,
        limit=limit,
    )


def _split_select(text: str) -> tuple[str, str]:
    # The select list ends at the first FROM outside parentheses.
    if not re.match(r"SELECT\s", text, re.IGNORECASE):
        raise SoqlError("MALFORMED_QUERY", "a query starts with SELECT")
    depth, index = 0, 6
    while index < len(text):
        char = text[index]
        depth += (char == "(") - (char == ")")
        if depth == 0 and re.match(r"\sFROM\s", text[index : index + 6], re.IGNORECASE):
            return text[6:index].strip(), text[index:].strip()
        index += 1
    raise SoqlError("MALFORMED_QUERY", "the query has no FROM")


def _split_top_level(select: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in select:
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        depth += (char == "(") - (char == ")")
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _literal(token: str) -> Any:
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if token.startswith("'"):
        return token[1:-1].replace("\\'", "'")
    return int(token)


def _value(row: Mapping[str, Any], name: str, lookup: Callable[[str, str], Any]) -> Any:
    if "." in name:
        parent, child = name.split(".", 1)
        return lookup(str(row.get(f"{parent}Id") or ""), child)
    return row.get(name)


def _require_field(name: str, rows: list[dict[str, Any]]) -> None:
    if "." in name or not rows:
        return
    if not any(name in row for row in rows):
        raise SoqlError("INVALID_FIELD", f"No such column '{name}'")
