"""The scenarios that ship with chargeloop (the ``scenarios/`` folder), by name."""

from __future__ import annotations

from pathlib import Path

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"


def shipped() -> dict[str, Path]:
    return {p.stem: p for p in sorted(LIBRARY.glob("*.yaml"))}


def scenario_path(name: str) -> Path:
    """A shipped scenario's file, or a clear error listing what there is."""
    found = shipped().get(name.removesuffix(".yaml"))
    if found is None:
        names = ", ".join(shipped()) or "none"
        raise FileNotFoundError(f"{name}: no such file, and no shipped scenario of that name "
                                f"(shipped: {names})")
    return found
