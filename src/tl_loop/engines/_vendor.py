"""Small helpers several HTTP engine modules share: finding a vendor's language code for a
BCP-47 tag, and sharing a per-request count (billed characters, tokens) among segments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tl_loop._models import normalize_tag

__all__ = ["apportion", "vendor_code"]


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split a per-request count over segments in proportion to `weights`; sums to `total`."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (total * weights[i]) % whole, reverse=True
    )
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares


def vendor_code(tag: str, languages: frozenset[str], aliases: Mapping[str, str]) -> str | None:
    """A service's code for a BCP-47 `tag`, trying `sr-Latn-RS`, then `sr-Latn`, then `sr`."""
    try:
        subtags = normalize_tag(tag).split("-")
    except ValueError:
        return None
    for length in range(len(subtags), 0, -1):
        candidate = "-".join(subtags[:length])
        for code in (candidate, aliases.get(candidate)):
            if code in languages:
                return code
    return None
