"""chargeloop: the shared core of the harness.

The OCPP-J protocol (``chargeloop.ocppj``), the command line (``chargeloop.cli``) and, as they
land, the simulation clock, run folders and configuration helpers that every other package uses.
"""

__version__ = "0.1.0"
