"""Wire authentication: verifiers from settings, the role map, the security policy, CSRF."""
from __future__ import annotations

from pathlib import Path

from pyramid.csrf import CookieCSRFStoragePolicy

from core.auth.jwt import JWKSKeySource, PEMKeySource, StaticJWKSKeySource, TokenVerifier
from core.auth.policy import SecurityPolicy, Verifiers
from core.permissions import RolePermissions

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEV_KEY_FILE = "dev-signing-key.pem"


def dev_key_path(settings) -> Path:
    return Path(settings["interviewminds.var_dir"]) / DEV_KEY_FILE


def build_verifiers(settings) -> Verifiers:
    common = dict(issuer=settings["interviewminds.auth.issuer"] or None,
                  authorized_parties=settings["interviewminds.auth.authorized_parties"],
                  leeway=settings["interviewminds.auth.leeway"])
    clerk = None
    if settings["interviewminds.auth.jwks_url"]:
        clerk = TokenVerifier(JWKSKeySource(settings["interviewminds.auth.jwks_url"],
                                            ttl_seconds=settings["interviewminds.auth.jwks_ttl"]), **common)
    elif settings["interviewminds.auth.public_key_pem"]:
        clerk = TokenVerifier(PEMKeySource(settings["interviewminds.auth.public_key_pem"]), **common)
    dev = dev_kid = None
    if settings["interviewminds.auth.dev"]:
        from core.auth.devkeys import DEV_ISSUER, dev_jwks, load_or_create_dev_key

        jwks = dev_jwks(load_or_create_dev_key(dev_key_path(settings)))
        dev_kid = jwks["keys"][0]["kid"]
        # Dev tokens go through the same verifier class, against the local key published as a JWKS.
        dev = TokenVerifier(StaticJWKSKeySource(jwks), issuer=DEV_ISSUER, authorized_parties=(),
                            leeway=settings["interviewminds.auth.leeway"])
    return Verifiers(clerk=clerk, dev=dev, dev_kid=dev_kid)


def load_roles(settings) -> RolePermissions:
    path = settings["interviewminds.auth.roles_file"] or CONFIG_DIR / "roles.toml"
    return RolePermissions.from_toml(path)


def includeme(config):
    settings = config.registry.settings
    roles = load_roles(settings)
    config.registry.im_roles = roles
    config.registry.im_verifiers = build_verifiers(settings)
    config.set_security_policy(SecurityPolicy(config.registry.im_verifiers, roles))
    config.set_csrf_storage_policy(CookieCSRFStoragePolicy(cookie_name="csrf_token", secure=False,
                                                           httponly=False, samesite="Strict"))
    config.add_request_method(lambda r: r.environ.get("interviewminds.auth_error"), "auth_error", reify=True)
