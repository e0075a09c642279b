"""locust load tests that put thousands of OCPP stations on a CSMS, and the throughput
benchmarks in ``loadtests/benchmarks/``."""
