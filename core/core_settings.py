"""Core's own settings (``interviewminds.*``). Plugins declare theirs through a hook."""
from __future__ import annotations

from core.settings import Setting

MiB = 1024 * 1024

CORE_SETTINGS = (
    Setting("plugins", list, [], "Enabled plugins, in load order (entry-point names or dotted modules)."),
    Setting("env", str, "development", "Deployment kind; `production` refuses dev auth and secrets from the ini.",
            choices=("development", "test", "production")),
    Setting("debug", bool, False, "Add a `details` field to error bodies. Never in production."),
    Setting("var_dir", str, "var", "Directory for local state: the dev signing key, service data."),
    Setting("mongo.uri", str, "mongodb://127.0.0.1:27017/interviewminds",
            "MongoDB (or FerretDB) URI including the database name.", secret=True),
    Setting("mongo.timeout_ms", int, 2000, "Server selection and connect timeout in ms.", minimum=50),
    Setting("redis.url", str, "redis://127.0.0.1:6379/0", "Redis URL (rate limits, breakers, caches, RQ).",
            secret=True),
    Setting("redis.timeout", float, 2.0, "Redis socket timeout in seconds.", minimum=0.05),
    Setting("http.max_body_bytes", int, 1 * MiB, "Largest request body accepted by JSON routes (413 above).",
            minimum=1024),
    Setting("http.max_upload_bytes", int, 10 * MiB,
            "Largest body accepted by upload routes (services declared with `upload=True`).", minimum=1024),
    Setting("http.trusted_proxies", list, [],
            "Peer addresses (or CIDRs) whose X-Forwarded-For is trusted for the client ip."),
    Setting("cors.origins", list, [], "Origins allowed by CORS (`*` for any). Empty: no CORS headers."),
    Setting("cors.max_age", int, 600, "Seconds a browser may cache a CORS preflight.", minimum=0),
    Setting("security.hsts", bool, False, "Send Strict-Transport-Security (enable behind TLS)."),
    Setting("security.hsts_max_age", int, 31536000, "HSTS max-age in seconds.", minimum=0),
    Setting("graphql.max_depth", int, 10, "Deepest GraphQL selection accepted.", minimum=1),
    Setting("graphql.max_aliases", int, 30, "Most aliases in one GraphQL document.", minimum=0),
    Setting("graphql.max_tokens", int, 2000, "Most tokens in one GraphQL document.", minimum=10),
    Setting("graphql.objects_per_unit", int, 100, "Objects a GraphQL request may return per unit it costs the "
            "`graphql` rate-limit tier (each root field costs at least 1).", minimum=1),
    Setting("graphql.default_list_size", int, 1, "Items counted for a nested GraphQL list field that declares no "
            "size (`list_cost`) in the cost of a request.", minimum=1),
    Setting("graphql.mutation_cost", int, 1, "Least `graphql`-tier units each mutation field (every alias) "
            "costs.", minimum=1),
    Setting("graphql.max_items", int, 10000, "Most list items (all lists' lengths added up) one GraphQL response "
            "may hold; more is a 413.", minimum=1),
    Setting("graphql.max_response_bytes", int, 10 * MiB, "Largest GraphQL response body in bytes; larger is a 413.",
            minimum=1024),
    Setting("graphql.graphiql", bool, False, "Serve GraphiQL on GET /graphql from a browser."),
    Setting("graphql.introspection", bool, None, "Answer GraphQL introspection (`__schema`, `__type`). Unset: "
            "on, except in production, where only an explicit `true` turns it on."),
    Setting("health.timeout", float, 2.0, "Seconds all health checks together may take.", minimum=0.1),
    Setting("health.cache_seconds", float, 30.0, "Seconds a plugin's upstream check result (e.g. `groq.api`) is "
            "reused by /health, so probes do not call the upstream each time; 0: every probe calls it.",
            minimum=0),
    Setting("metrics.allow_cidrs", list, [], "Client networks allowed to read /metrics (client address as for "
            "rate limits). Empty: anyone, except in production, where only loopback is."),
    Setting("jobs.max_retries", int, 3, "How often a failed job is retried.", minimum=0),
    Setting("jobs.retry_intervals", list, ["10", "60", "300"], "Seconds before each retry (backoff)."),
    Setting("jobs.default_timeout", int, 300, "Seconds a job may run before the worker kills it.", minimum=1),
    Setting("outbound.allow_cidrs", list, [],
            "CIDRs that user-supplied outbound URLs may reach although private (tests: 127.0.0.0/8). "
            "Keep empty in production."),
    Setting("outbound.allowed_ports", list, ["80", "443"], "Ports user-supplied outbound URLs may use."),
    Setting("auth.dev", bool, False, "Accept dev tokens from `interviewminds token` (refused in production)."),
    Setting("auth.jwks_url", str, "", "Clerk JWKS URL (operator-set, e.g. https://<frontend-api>/.well-known/jwks.json)."),
    Setting("auth.jwks_ttl", int, 300, "Seconds a fetched JWKS key is cached.", minimum=0),
    Setting("auth.public_key_pem", str, "", "Clerk PEM public key, instead of a JWKS URL.", secret=True),
    Setting("auth.issuer", str, "", "Expected `iss` claim (empty: not checked)."),
    Setting("auth.authorized_parties", list, [], "Allowed `azp` values (empty: not checked)."),
    Setting("auth.leeway", float, 5.0, "Clock skew in seconds allowed for exp/nbf.", minimum=0),
    Setting("auth.interviewer_reads_any", bool, True,
            "Interviewers may read any interview (false: only the ones they are assigned)."),
    Setting("auth.roles_file", str, "", "TOML grant overrides ([roles.<role>] grant/revoke) used instead of "
            "config/roles.toml."),
    Setting("ratelimit.enabled", bool, True, "Apply rate limits."),
    Setting("ratelimit.tiers_file", str, "", "TOML limit overrides ([tiers] name = limit) used instead of "
            "config/rate-limits.toml."),
    Setting("ratelimit.limits", list, [], "Limit overrides applied last, as `tier=limit` words "
            "(e.g. `ai=10/minute general=600/minute`)."),
    Setting("ratelimit.fail_mode", str, "open", "When Redis is unreachable: `open` lets requests through, "
            "`closed` answers 503.", choices=("open", "closed")),
    Setting("breakers.fail_max", int, 5, "Consecutive failures that open a breaker.", minimum=1),
    Setting("breakers.reset_timeout", float, 30.0, "Seconds an open breaker waits before a probe.", minimum=0.1),
    Setting("breakers.call_timeout", float, 10.0, "Seconds a guarded call may take.", minimum=0.1),
    Setting("audit.retention_days", int, 365, "Days audit entries are kept (purged by a periodic job).",
            minimum=1),
)
