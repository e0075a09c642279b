"""The OCTT test case catalogues: which cases exist, for which side, in which profiles.

Rows come from ``conformance/data/catalogue-ocpp16.csv`` and ``catalogue-ocpp201.csv`` (copied
from the OCA documents' tables; see ``conformance/data/README.md``). A case is one row: an id
with its side suffix (``TC_B_01_CSMS``), a title, and the certification profiles it counts in.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from chargeloop.ocppj import OcppVersion

# The profile names a user types, per version (the 2.0.1 codes are those of Part 5).
PROFILES: dict[OcppVersion, dict[str, str]] = {
    OcppVersion.V16: {
        "core": "Core", "local-auth-list": "LocalAuthList",
        "firmware-management": "FirmwareManagement", "reservation": "Reservation",
        "remote-trigger": "RemoteTrigger", "smart-charging": "SmartCharging",
        "security": "Security",
    },
    OcppVersion.V201: {
        "core": "Core", "advanced-security": "AdvSec", "local-auth-list": "LAL",
        "smart-charging": "SC", "advanced-device-management": "ADM",
        "advanced-user-interface": "UI", "reservation": "Res", "iso15118": "ISO",
    },
}

# Issue 6: the 2.0.1 suite covers these profiles and, whatever their profile, these blocks.
COVERED_201_PROFILES = ("Core", "AdvSec", "LAL", "SC", "UI", "Res")
COVERED_201_BLOCKS = ("J", "L", "N", "P")
# A 2.0.1 case outside the certification programme has no profile in the catalogue; it counts
# as part of its block's functional profile when the suite decides whether it is in scope.
BLOCK_PROFILES_201 = {"B": "Core", "C": "Core", "K": "SC", "O": "UI"}
NOT_IN_PROGRAMME = "not in certification programme"


@dataclass(frozen=True, slots=True)
class Case:
    id: str  # "TC_B_01_CSMS"
    version: OcppVersion
    title: str
    sut: str  # "CS" or "CSMS": the side under test
    block: str  # 2.0.1: "A".."P"; 1.6: "" (the 1.6 document has sections, not blocks)
    profiles: tuple[str, ...]  # certification profiles (1.6: the document section's profile)
    requirement: str  # 2.0.1: "M", "C", "Core:C;ADM:M" or ""; 1.6: ""
    note: str

    @property
    def in_programme(self) -> bool:
        """Whether OCA certifies this case (the catalogue's note says when it does not); the
        suite runs and reports it either way."""
        return NOT_IN_PROGRAMME not in self.note

    @property
    def scope_profiles(self) -> tuple[str, ...]:
        """The profiles that bring the case into scope: its own, or for a case without any
        (outside the programme) its block's."""
        if self.profiles or self.version is not OcppVersion.V201:
            return self.profiles
        block = BLOCK_PROFILES_201.get(self.block)
        return (block,) if block else ()


@cache
def catalogue(version: OcppVersion) -> tuple[Case, ...]:
    name = "catalogue-ocpp16.csv" if version is OcppVersion.V16 else "catalogue-ocpp201.csv"
    text = resources.files("conformance.data").joinpath(name).read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return tuple(Case(
        id=row["id"], version=version, title=row["title"], sut=row["sut"],
        block=row.get("block", ""),
        profiles=tuple(p for p in row["profile"].split(";") if p),
        requirement=row.get("requirement", ""), note=row.get("note", "") or "",
    ) for row in rows)


def case(case_id: str) -> Case:
    """The catalogue row of ``case_id``; KeyError naming the id if no catalogue has it."""
    for version in (OcppVersion.V16, OcppVersion.V201):
        for row in catalogue(version):
            if row.id == case_id:
                return row
    raise KeyError(f"{case_id} is in neither OCTT catalogue")


def profile_code(version: OcppVersion, name: str) -> str:
    """A profile as the user names it (``smart-charging``, or the catalogue's ``SC``) -> the
    catalogue's code; ValueError listing the valid names."""
    names = PROFILES[version]
    if name in names:
        return names[name]
    if name in names.values():
        return name
    raise ValueError(f"unknown {version.value} profile {name!r}; use one of "
                     f"{', '.join(names)}")


def in_scope(row: Case, profiles: tuple[str, ...]) -> bool:
    """Whether the suite should run ``row`` when ``profiles`` (catalogue codes) are claimed; a
    case outside the certification programme is in scope like any other."""
    if row.version is OcppVersion.V201 and row.block in COVERED_201_BLOCKS:
        return True
    return any(p in profiles for p in row.scope_profiles)


def csms_cases(version: OcppVersion, profiles: tuple[str, ...]) -> list[Case]:
    """The ``_CSMS`` cases of ``version`` in scope for ``profiles``."""
    return [row for row in catalogue(version) if row.sut == "CSMS" and in_scope(row, profiles)]
