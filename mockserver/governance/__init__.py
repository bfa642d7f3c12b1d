"""The router's governance: access lists per key, spend alerts delivered by webhook, guardrails.

- :mod:`~mockserver.governance.config`: the ``access_lists``, ``alerts`` and ``guardrails`` sections of
  the ``--config`` file, checked at start;
- :mod:`~mockserver.governance.store`: what is in force at run time (the file's settings and those
  made through the management operations), kept with ``--state``;
- :mod:`~mockserver.governance.gate`: the one step every inference call passes (access list, guardrail);
- :mod:`~mockserver.governance.detectors`, :mod:`~mockserver.governance.guardrails`: finding and masking;
- :mod:`~mockserver.governance.alerts`, :mod:`~mockserver.governance.delivery`: thresholds crossed,
  signed webhook events, delivered in the background with retries.

``docs/governance.md`` documents each control.
"""
