"""JUnit XML for CI: suites of cases with passed, failed and skipped outcomes.

Scenario runs, conformance suites and load tests all end in verdicts; CI systems (GitLab,
Jenkins, GitHub's test reporters) read this one format.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Outcome = Literal["passed", "failed", "skipped", "error"]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    outcome: Outcome
    message: str = ""
    details: str = ""
    seconds: float = 0.0
    classname: str = ""


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0


def write_junit(path: Path, suites: list[Suite]) -> None:
    root = ET.Element("testsuites")
    for suite in suites:
        counts = {o: sum(c.outcome == o for c in suite.cases)
                  for o in ("failed", "skipped", "error")}
        element = ET.SubElement(root, "testsuite", name=suite.name, tests=str(len(suite.cases)),
                                failures=str(counts["failed"]), errors=str(counts["error"]),
                                skipped=str(counts["skipped"]), time=f"{suite.seconds:.3f}")
        for case in suite.cases:
            item = ET.SubElement(element, "testcase", name=case.name,
                                 classname=case.classname or suite.name,
                                 time=f"{case.seconds:.3f}")
            if case.outcome == "failed":
                ET.SubElement(item, "failure", message=case.message).text = case.details
            elif case.outcome == "error":
                ET.SubElement(item, "error", message=case.message).text = case.details
            elif case.outcome == "skipped":
                ET.SubElement(item, "skipped", message=case.message)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
