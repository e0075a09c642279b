"""Conformance suites named by the Open Charge Alliance's OCTT test case ids.

``conformance.csms``: the CSMS is under test and the harness plays the charging stations.
The catalogues of case ids (``conformance/data``) come from the OCA's published test case
documents (OCPP 2.0.1 Edition 3 Part 6 with errata to 2025-09, OCPP 1.6 FINAL 2024-04); passing
this suite is not an OCA certification.
"""
