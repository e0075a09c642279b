"""The reference CSMS: OCPP 1.6J and 2.0.1 server, domain services, storage, REST API and web
pages. The default backend of every simulation and a system under test. Lands with issue 3."""
