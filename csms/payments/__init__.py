"""Payment providers: the interface the CSMS bills through (:mod:`csms.payments.provider`) and
the built-in test provider that behaves like a card processor
(:mod:`csms.payments.test_provider`)."""
