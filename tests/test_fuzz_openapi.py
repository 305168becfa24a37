"""schemathesis over /openapi.json, in process: no 5xx, and every answer conforms to the document.

Every operation of the app with every first-party plugin (the ``development.ini`` list) is
fuzzed with positive (schema-valid) and negative (schema-violating) inputs, once per role with
a dev token. ``make test`` runs ``FUZZ_EXAMPLES`` (default 10) examples per operation, mode and
role; ``make fuzz`` raises it so that more than 5,000 cases run. Generation is derandomized, so a
run is reproducible. Rate limiting is off (it would only answer 429s), and no socket may leave
127.0.0.0/8 (webhook registration resolves the hosts it is given).

Prints the cases run and the responses >= 500, per role and in total (``make fuzz`` shows it).
"""
from __future__ import annotations

import configparser
import ipaddress
import os
import socket
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("candidate", "interviewer", "admin")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "0"))  # make fuzz: 5000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
NEGATIVE_CHECKS = CHECKS + [negative_data_rejection]


def development_plugins() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "development.ini")
    return parser["app:main"]["interviewminds.plugins"].split()


@dataclass
class Tally:
    cases: int = 0
    server_errors: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


TOTAL = Tally()


@pytest.fixture(scope="module", autouse=True)
def print_total():
    yield
    print(f"\nfuzz total: {TOTAL.cases} cases, {len(TOTAL.server_errors)} responses >= 500, "
          f"{len(TOTAL.failures)} conformance failures (FUZZ_EXAMPLES={EXAMPLES})")


@pytest.fixture(scope="module")
def loopback_only():
    """Refuse DNS look-ups of real names and connections outside 127.0.0.0/8 / ::1."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def is_loopback(host) -> bool:
        if host in (None, "localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
        except ValueError:
            return False

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (None, "localhost"):
            try:  # an address literal needs no look-up; connect() vets where it points
                ipaddress.ip_address(str(name).strip("[]").split("%")[0])
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, f"DNS is off in the fuzz tests ({name!r})") from None
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise ConnectionRefusedError(f"the fuzz tests never leave loopback ({address[0]!r})")
        return real_connect(sock, address)

    patch = pytest.MonkeyPatch()
    patch.setattr(socket, "getaddrinfo", getaddrinfo)
    patch.setattr(socket.socket, "connect", connect)
    yield
    patch.undo()


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, redis_service, mongo_service, loopback_only):
    from core.testing import base_settings, make_test_app

    settings = base_settings(redis_service[0], mongo_service[0].rstrip("/") + "/fuzz_openapi",
                             tmp_path_factory.mktemp("var"), **{
                                 "interviewminds.plugins": " ".join(development_plugins()),
                                 "interviewminds.ratelimit.enabled": "false",
                             })
    return make_test_app(settings)


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app.app)


def seed_resources(app, headers: dict, user_id: str) -> dict[str, str]:
    """Real resources of this caller, by path prefix, so that ``{id}`` routes also get ids that exist
    (random ids only reach the 400/404 paths)."""
    seeds = {"/api/reports/candidate/": user_id}
    created = app.post_json("/api/interview", {"title": "Fuzz", "role": "backend engineer", "difficulty": "easy"},
                            headers=headers, expect_errors=True)
    if created.status_int == 201:
        seeds["/api/interview/"] = created.json["id"]
    endpoint = app.post_json("/api/webhooks/register", {"url": "http://127.0.0.1:9/hook",
                                                                  "events": ["interview.created"]},
                             headers=headers, expect_errors=True)
    if endpoint.status_int == 201:
        seeds["/api/webhooks/"] = endpoint.json["id"]
        message = app.post(f"/api/webhooks/{endpoint.json['id']}/test", headers=headers, expect_errors=True)
        if message.status_int == 202:
            seeds["/api/webhooks/messages/"] = message.json["id"]
    return seeds


def seeded_id(operation, seeds: dict[str, str]) -> str | None:
    if "{id}" not in operation.path:
        return None
    prefix = max((p for p in seeds if operation.path.startswith(p)), key=len, default=None)
    return seeds[prefix] if prefix else None


def negates_auth(case) -> bool:
    """Whether schemathesis made this case invalid through its Authorization header."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    names = {getattr(data, "parameter", None)}
    names.update(getattr(m, "parameter", None) for m in (getattr(data, "mutations", None) or ()))
    return "Authorization" in names


def fuzz_operation(operation, mode: GenerationMode, headers: dict, tally: Tally, examples: int,
                   path_parameters: dict | None = None) -> None:
    checks = NEGATIVE_CHECKS if mode == GenerationMode.NEGATIVE else CHECKS

    @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck),
                         verbosity=hypothesis.Verbosity.quiet)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        tally.cases += 1
        # A negative case that breaks the security scheme carries its own bad Authorization: keep it.
        sent = {} if negates_auth(case) else headers
        response = case.call(headers=sent)
        tally.statuses[response.status_code] += 1
        label = f"{operation.label} [{mode.value}{', seeded id' if path_parameters else ''}]"
        if response.status_code >= 500:
            tally.server_errors.append(f"{label}: {response.status_code} {response.text[:300]}\n"
                                       f"    {case.as_curl_command(headers=sent)[:600]}")
        try:
            case.validate_response(response, checks=checks, headers=sent)
        except FailureGroup as group:
            for failure in group.exceptions:
                tally.failures.append(f"{label}: {failure.title}: {str(failure.message)[:300]}\n"
                                      f"    {case.as_curl_command(headers=sent)[:600]}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to generate in this mode (e.g. no input at all to make invalid)


def fuzz_stateful(schema, headers: dict, tally: Tally, examples: int) -> None:
    """Sequences that follow the document's links (create an interview, then read and update it;
    register a webhook, then use it), so that generated input reaches existing resources."""
    base = schema.as_state_machine()

    class Machine(base):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            tally.cases += 1
            tally.statuses[response.status_code] += 1
            if response.status_code >= 500:
                tally.server_errors.append(f"{case.operation.label} [stateful]: {response.status_code} "
                                           f"{response.text[:300]}\n    {case.as_curl_command(headers=headers)[:600]}")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    tally.failures.append(f"{case.operation.label} [stateful]: {failure.title}: "
                                          f"{str(failure.message)[:300]}")

    Machine.run(settings=hypothesis.settings(
        max_examples=examples, stateful_step_count=6, deadline=None, derandomize=True, database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck), verbosity=hypothesis.Verbosity.quiet))


def fuzz(schema, headers: dict, examples: int, seeds: dict[str, str]) -> Tally:
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, mode, headers, tally, examples)
    # Then the real resources, deleted last.
    for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
        seeded = seeded_id(operation, seeds)
        if seeded is not None:
            fuzz_operation(operation, GenerationMode.POSITIVE, headers, tally, examples, {"id": seeded})
    fuzz_stateful(schema, headers, tally, examples)
    return tally


def _dedupe(lines: list[str], limit: int = 15) -> str:
    seen: dict[str, int] = {}
    for line in lines:
        key = line.split("\n")[0][:160]
        seen[key] = seen.get(key, 0) + 1
    shown = [f"{count}x {key}" for key, count in list(seen.items())[:limit]]
    first = {line.split("\n")[0][:160]: line for line in reversed(lines)}
    return "\n".join(shown) + "\n--- first examples ---\n" + "\n".join(list(first.values())[:5])


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_every_operation(fuzz_app, api_schema, role):
    headers = fuzz_app.auth(f"fuzz-{role}", role)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, "the document lists too few operations"
    seeds = seed_resources(fuzz_app, headers, f"fuzz-{role}")
    tally = fuzz(api_schema, headers, EXAMPLES, seeds)
    print(f"\nfuzz[{role}]: {tally.cases} cases over {len(operations)} operations (real ids for "
          f"{', '.join(sorted(seeds)) or 'none'}), "
          f"{len(tally.server_errors)} responses >= 500, {len(tally.failures)} conformance failures; "
          f"statuses {dict(sorted(tally.statuses.items()))}")
    TOTAL.cases += tally.cases
    TOTAL.server_errors += tally.server_errors
    TOTAL.failures += tally.failures
    assert tally.cases >= len(operations), "too few cases ran"
    assert not tally.server_errors, "server errors:\n" + _dedupe(tally.server_errors)
    assert not tally.failures, "responses not conforming to /openapi.json:\n" + _dedupe(tally.failures)


def test_enough_cases_ran():
    """Runs after the role tests (file order): ``make fuzz`` asks for at least FUZZ_MIN_CASES."""
    assert TOTAL.cases >= MIN_CASES, f"only {TOTAL.cases} cases ran; raise FUZZ_EXAMPLES"
