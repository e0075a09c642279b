"""The conformance suite for a CSMS under test: the harness plays the charging stations."""
