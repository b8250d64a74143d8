import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_the_member_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert {"/member/registration", "/member/login", "/member/logout", "/member/members/{userId}",
            "/health"} <= set(paths)
    registration = paths["/member/registration"]["post"]
    assert "requestBody" in registration
    assert "201" in registration["responses"]
    assert "application/problem+json" in registration["responses"]["409"]["content"]


def test_the_schema_is_served_as_yaml_by_default(api_client):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "Commerce API"


def test_the_docs_page_loads_everything_from_this_server(api_client):
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls, "the page references its scripts and styles"
    assert all(not re.match(r"^(https?:)?//", url) for url in urls), urls
    assert not re.search(r"https?://(?!localhost|testserver)", html)
