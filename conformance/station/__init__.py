"""Station under test: the harness plays the CSMS (issue 7)."""
