"""The router's routing: policies and aliases from ``--config`` (:mod:`.config`), and model resolution
(:func:`.resolve.resolve`), which every inference handler calls with the ``model`` a request names."""
