"""Identity: verifying Clerk session JWTs (``core.auth.jwt``) and local dev keys (``core.auth.devkeys``).

The token proves *who* the caller is (its ``sub``). What they may do comes from their role,
which is stored in MongoDB and mapped to permissions by ``core.permissions``; a role claim
inside a token is never trusted for authorization.
"""
