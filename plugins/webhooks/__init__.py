"""Webhooks plugin: signed, retried, tracked and SSRF-safe Standard Webhooks deliveries.

Pure building blocks (no storage, no HTTP layer):
- ``signing``: secrets in ``whsec_`` form, Standard Webhooks signatures, headers and payloads;
- ``secrets``: AES-256-GCM encryption of endpoint secrets at rest;
- ``retry``: the retry schedule with jitter, ``Retry-After`` parsing and outcome rules;
- ``sender``: one delivery attempt through ``core.outbound.safe_request``.
"""
