"""Version-neutral domain services: what a 1.6 StartTransaction and a 2.0.1
TransactionEvent(Started) both mean, decided in one place."""
