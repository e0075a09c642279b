"""SimPy models of vehicles, drivers, charging stations, meters, sites and faults; scenario
loading; backends (the in-process reference CSMS or any CSMS by URL). Lands with issue 4."""
