"""pytest suites named by OCTT test case id: CSMS under test (we play the stations) and charging
station under test (we play the CSMS). Lands with issues 6 and 7."""
