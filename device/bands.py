"""Operating band from a downlink channel number (EARFCN, NR-ARFCN), from ``data/arfcn_bands.toml``
(3GPP TS 36.101 Table 5.7.3-1, TS 38.104 Table 5.4.2.3-1)."""

from __future__ import annotations

from .values import table


def band_candidates(rat: str, channel: int | None) -> list[str]:
    """Every band whose downlink range holds ``channel`` (``rat`` ``LTE`` or ``NR``), table order."""
    if channel is None:
        return []
    rows = table("arfcn_bands").get("lte" if rat == "LTE" else "nr" if rat == "NR" else "", [])
    return [name for name, lo, hi in rows if lo <= channel <= hi]


def band_for_channel(rat: str, channel: int | None, notes: list[str] | None = None) -> str | None:
    """The band of ``channel`` (``B3``, ``n78``), None when unknown; ambiguous channels are noted."""
    found = band_candidates(rat, channel)
    if len(found) > 1 and notes is not None:
        notes.append(f"{rat} channel {channel} lies in bands {', '.join(found)}: {found[0]} recorded "
                     "(data/arfcn_bands.toml order)")
    return found[0] if found else None
