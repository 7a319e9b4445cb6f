"""Access control for Glossify, pure and Ray-free.

- ``scopes``: the scopes of service keys, the roles of meeting tokens and the actions they allow.
- ``keys``: service API keys from ``GLOSSIFY_API_KEYS``, checked in constant time.
- ``tokens``: signed per-meeting access tokens (HS256 JWTs, key ids for rotation).
- ``principal``: who is asking (``authenticate``) and whether they may do it (``authorize``).
- ``origins``: the origin allow-list (CORS, WebSocket handshake), JSON content type, trusted hosts.
- ``limits``: token-bucket rate limiters and concurrent-slot counters for the quotas.
- ``local_secrets``: the signing secret and local service key ``glossify up``/``demo`` generate.

The ingress wires these into its routes; the configuration model lives in
``glossify.config.access``.
"""
