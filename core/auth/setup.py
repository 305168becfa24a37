"""Wire authentication: core's identity sources, the role grants, the security policy, CSRF."""
from __future__ import annotations

from pathlib import Path

from pyramid.csrf import CookieCSRFStoragePolicy

from core.auth.jwt import JWKSKeySource, PEMKeySource, StaticJWKSKeySource, TokenVerifier
from core.auth.policy import SecurityPolicy
from core.auth.sources import ClerkTokenSource, DevTokenSource
from core.config_files import config_path
from core.lookup import IDENTITY, PERMISSIONS, find_service
from core.permissions import load_overrides

DEV_KEY_FILE = "dev-signing-key.pem"


def dev_key_path(settings) -> Path:
    return Path(settings["interviewminds.var_dir"]) / DEV_KEY_FILE


def builtin_identity_sources(settings) -> list:
    """Dev tokens (when enabled) first, then Clerk JWTs (when a JWKS URL or PEM key is set)."""
    sources = []
    leeway = settings["interviewminds.auth.leeway"]
    if settings["interviewminds.auth.dev"]:
        from core.auth.devkeys import DEV_ISSUER, dev_jwks, load_or_create_dev_key

        jwks = dev_jwks(load_or_create_dev_key(dev_key_path(settings)))
        # Dev tokens go through the same verifier class, against the local key published as a JWKS.
        verifier = TokenVerifier(StaticJWKSKeySource(jwks), issuer=DEV_ISSUER, authorized_parties=(), leeway=leeway)
        sources.append(DevTokenSource(verifier, jwks["keys"][0]["kid"]))
    common = dict(issuer=settings["interviewminds.auth.issuer"] or None,
                  authorized_parties=settings["interviewminds.auth.authorized_parties"], leeway=leeway)
    if settings["interviewminds.auth.jwks_url"]:
        sources.append(ClerkTokenSource(TokenVerifier(JWKSKeySource(
            settings["interviewminds.auth.jwks_url"], ttl_seconds=settings["interviewminds.auth.jwks_ttl"]), **common)))
    elif settings["interviewminds.auth.public_key_pem"]:
        sources.append(ClerkTokenSource(TokenVerifier(PEMKeySource(settings["interviewminds.auth.public_key_pem"]),
                                                      **common)))
    return sources


def role_overrides(settings) -> tuple[dict, str]:
    """The operator's grant overrides and where they came from."""
    path = config_path(settings["interviewminds.auth.roles_file"], "roles.toml")
    return load_overrides(path), str(path)


def includeme(config):
    registry = config.registry
    grants = find_service(registry, PERMISSIONS).grants
    config.set_security_policy(SecurityPolicy(find_service(registry, IDENTITY), grants))
    config.set_csrf_storage_policy(CookieCSRFStoragePolicy(cookie_name="csrf_token", secure=False,
                                                           httponly=False, samesite="Strict"))
    config.add_request_method(lambda r: r.environ.get("interviewminds.auth_error"), "auth_error", reify=True)
