"""API keys, the usage ledger and spend limits: pure logic and the stores behind them.

``keys`` and ``ledger`` each define a small store interface (a ``Protocol``)
with an in-memory implementation; :class:`mockserver.state.MockState` combines
them with the policy (expiry, spend limits) that handlers rely on.
"""
