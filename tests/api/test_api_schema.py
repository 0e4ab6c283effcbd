"""The OpenAPI description: it lists every route and nothing else, is valid OpenAPI 3.1,
is served without credentials at /api/schema, and /docs/api renders it from local files."""

import re

import pytest

from desktop.api import schema


@pytest.fixture(scope="module")
def spec(live):
    response = live.anonymous.get("/api/schema")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_every_route_has_an_entry_and_every_entry_a_route(live, spec):
    routes = schema.route_table(live.app.wsgi.app)
    listed = schema.spec_table(spec)
    assert routes - listed == set(), "routes missing from desktop/api/openapi_spec.py OPERATIONS"
    assert listed - routes == set(), "spec entries with no route"
    assert len(routes) > 150


def test_served_spec_is_the_built_one(spec):
    assert spec == schema.build()


def test_no_auth_in_the_spec_matches_the_routes(live, spec):
    """An operation the spec says needs no credentials is exactly a route with auth=False."""
    open_routes = {(r.method, schema.openapi_path(r.rule)) for r in live.app.wsgi.app.routes
                   if r.config.get("auth", True) is False}
    open_ops = {(m.upper(), p) for p, item in spec["paths"].items() for m, op in item.items()
                if op.get("security") == []}
    assert open_routes == open_ops


def test_spec_is_valid_openapi(spec):
    import openapi_spec_validator  # a test dependency: installed by make test, never skipped
    openapi_spec_validator.validate(spec)


def test_refs_resolve_and_path_params_are_declared(spec):
    names = set(spec["components"]["schemas"])
    text = str(spec)
    for ref in re.findall(r"#/components/schemas/(\w+)", text):
        assert ref in names, ref
    ids = set()
    for path, item in spec["paths"].items():
        declared = set(re.findall(r"{(\w+)}", path))
        for method, op in item.items():
            assert op["operationId"] not in ids
            ids.add(op["operationId"])
            params = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
            assert params == declared, (method, path)
    assert set(spec["components"]["securitySchemes"]) == {"Token", "Bearer"}


def test_schema_needs_no_auth_but_the_api_does(live):
    assert live.anonymous.get("/api/schema").status_code == 200
    assert live.anonymous.get("/api/projects").status_code == 401


def test_docs_page_uses_local_files_only(live):
    page = live.anonymous.get("/docs/api")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in page.headers
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        response = live.anonymous.get(asset)
        assert response.status_code == 200, asset
        if asset.endswith((".js", ".css")):  # loads nothing from outside the machine
            assert not re.search(r"https?://|//cdn", response.text), asset
    assert live.anonymous.get("/docs/api/").status_code == 200
