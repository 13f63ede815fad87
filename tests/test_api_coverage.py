"""What every operation of the open API owes, read from its OpenAPI document (no database).

- Jurisdiction: every operation whose path takes a parameter (an object id, a code) is named
  in the `COVERED_FOREIGN` set of some tests/test_api_*.py module, which promises a test that
  a caller from another jurisdiction (another enterprise, another worker) gets 404 and that
  nothing changed. The test fails naming each operation id no module covers.
- Each operation has an explicit `operation_id` (not ninja's generated module_function name)
  and a summary.
- Each operation declares a security requirement, or is named in PUBLIC_OPERATIONS below.
- Every 4xx answer is documented as `application/problem+json` with the Problem schema.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from kejiyun.api.api import api
from kejiyun.api.auth import anonymous
from kejiyun.api.errors import PROBLEM_CONTENT_TYPE

# Operations anyone may call without a credential (auth=ANYONE, or no auth at all). Each is a
# decision: an operation is public only when it is named here, and everything else must
# declare a security requirement in the document.
PUBLIC_OPERATIONS: set[str] = {
    # signing in and out: no credential yet, or one being given up
    "auth_sms_code_send",
    "auth_token",
    "auth_oauth_token",
    "auth_token_revoke",
    # what the public pages show anyone
    "demands_hall",
    "demands_hall_detail",
    "regions_list",
    "regions_get",
    "centres_list",
    "centres_get",
    "experts_list",
    "library_cases_list",
    "library_cases_get",
    "popsci_articles_list",
    "popsci_articles_get",
    "popsci_quizzes_list",
    "popsci_quizzes_get",
}
# OAuth2's token endpoint answers errors in RFC 6749's own JSON form (`error`,
# `error_description`), which OAuth client libraries expect, not as problem details.
RFC6749_OPERATIONS = {"auth_oauth_token"}

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
HERE = Path(__file__).resolve().parent


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def covered_foreign() -> dict[str, set[str]]:
    """operation id → the test modules that promise its other-jurisdiction test."""
    covered: dict[str, set[str]] = {}
    for file in sorted(HERE.glob("test_api_*.py")):
        if file.stem == Path(__file__).stem:
            continue
        module = importlib.import_module(f"tests.{file.stem}")
        for operation_id in getattr(module, "COVERED_FOREIGN", set()):
            covered.setdefault(operation_id, set()).add(file.stem)
    return covered


def _label(path: str, method: str, operation: dict[str, Any]) -> str:
    return operation.get("operationId") or f"{method.upper()} {path}"


def test_the_document_has_operations() -> None:
    assert any(path.endswith("/me") for path, _, _ in operations())


def test_every_operation_with_a_path_parameter_has_an_other_jurisdiction_test() -> None:
    covered = covered_foreign()
    missing = sorted(
        _label(path, method, operation)
        for path, method, operation in operations()
        if "{" in path and operation.get("operationId") not in covered
    )
    assert missing == [], (
        "operations with a path parameter that no tests/test_api_*.py names in "
        f"COVERED_FOREIGN (write the 404 test, then list them): {', '.join(missing)}"
    )


def test_covered_foreign_names_only_operations_that_exist() -> None:
    known = {operation.get("operationId") for _, _, operation in operations()}
    stale = {
        operation_id: sorted(modules)
        for operation_id, modules in covered_foreign().items()
        if operation_id not in known
    }
    assert stale == {}, f"COVERED_FOREIGN names operations the API does not have: {stale}"


def test_every_operation_has_an_explicit_unique_operation_id_and_a_summary() -> None:
    seen: dict[str, str] = {}
    for path, method, operation in operations():
        label = f"{method.upper()} {path}"
        operation_id = operation.get("operationId", "")
        # ninja's default is "<module>_<function>", e.g. kejiyun_api_routers_me_me.
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", operation_id), (
            f"{label}: operation_id {operation_id!r} is not <area>_<verb> snake case"
        )
        assert not operation_id.startswith("kejiyun_"), (
            f"{label}: give it an explicit operation_id (ninja generated {operation_id!r})"
        )
        assert operation_id not in seen, f"{label} and {seen.get(operation_id)}: {operation_id}"
        seen[operation_id] = label
        assert (operation.get("summary") or "").strip(), f"{operation_id}: no summary"


def open_operations() -> set[str]:
    """Operation ids that answer a caller with no credential: no auth, or the `anonymous`
    door among their auth callbacks (ninja's operations, not the document, which lists
    only the bearer and session schemes of an ANYONE operation)."""
    found = set()
    for router in api._get_bound_routers():  # the operations as mounted, with their auth
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                callbacks = operation.auth_callbacks
                if not callbacks or any(callback is anonymous for callback in callbacks):
                    found.add(operation.operation_id or api.get_openapi_operation_id(operation))
    return found


def test_public_operations_are_exactly_the_listed_ones() -> None:
    open_ones = open_operations()
    assert sorted(open_ones - PUBLIC_OPERATIONS) == [], (
        "operations anyone may call that PUBLIC_OPERATIONS does not name (list them, or "
        f"give them auth=SIGNED_IN): {sorted(open_ones - PUBLIC_OPERATIONS)}"
    )
    assert sorted(PUBLIC_OPERATIONS - open_ones) == [], (
        f"PUBLIC_OPERATIONS names operations that need a credential or do not exist: "
        f"{sorted(PUBLIC_OPERATIONS - open_ones)}"
    )


def test_every_operation_declares_security_or_is_listed_public() -> None:
    schema = api.get_openapi_schema()
    default = schema.get("security")
    unsecured = sorted(
        _label(path, method, operation)
        for path, method, operation in operations()
        if not operation.get("security", default)
        and operation.get("operationId") not in PUBLIC_OPERATIONS
    )
    assert unsecured == [], f"operations without a security requirement: {unsecured}"


def test_every_4xx_answer_is_problem_json() -> None:
    wrong = []
    for path, method, operation in operations():
        for status, response in operation.get("responses", {}).items():
            if not str(status).startswith("4"):
                continue
            if operation.get("operationId") in RFC6749_OPERATIONS and status in ("400", "401"):
                continue
            content = response.get("content", {})
            schema = content.get(PROBLEM_CONTENT_TYPE, {}).get("schema", {})
            if list(content) != [PROBLEM_CONTENT_TYPE] or not schema.get("$ref", "").endswith(
                "/Problem"
            ):
                wrong.append(f"{_label(path, method, operation)} {status}: {sorted(content)}")
    assert wrong == [], "4xx answers not documented as problem+json: " + "; ".join(wrong)


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "422", "429"])
def test_each_operation_names_the_common_refusals(status: str) -> None:
    for path, method, operation in operations():
        assert status in operation.get("responses", {}), (
            f"{_label(path, method, operation)} does not document {status}"
        )


def test_schema_names_are_unique() -> None:
    """ninja names a schema in the document by its class name: two classes of one name
    would share one component, and one operation's answers would be checked against the
    other's schema."""
    import importlib
    import pkgutil

    from ninja import Schema

    import kejiyun.api

    seen: dict[str, str] = {}
    clashes = []
    for info in pkgutil.walk_packages(kejiyun.api.__path__, "kejiyun.api."):
        if ".migrations" in info.name or ".management" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, Schema)
                and value.__module__ == info.name
            ):
                if name in seen and seen[name] != info.name:
                    clashes.append(f"{name}: {seen[name]} and {info.name}")
                seen.setdefault(name, info.name)
    assert clashes == []
