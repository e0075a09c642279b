"""Loads the conformance plugin's hooks for ``pytest conformance/...`` (see
``conformance/plugin.py``)."""

from conformance.plugin import (  # noqa: F401 - pytest finds hooks by name
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_deselected,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
)
