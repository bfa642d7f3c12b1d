"""Conformance on traffic the suite did not send: ``contract-tests audit`` (a recording) and ``contract-tests proxy``
(live traffic passing through). Both feed exchanges to one :class:`~contract_tests.audit.auditor.Auditor`, which
applies the checks' judges (docs/audit.md)."""
