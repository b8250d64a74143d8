import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.test import APIClient

from commerce.shared import errors
from commerce.shared.http.exceptions import flatten_errors, problem_exception_handler

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert all(isinstance(body[key], str) for key in ("type", "title", "detail"))
    return body


def test_malformed_json_is_a_400_problem(api_client):
    response = api_client.post("/member/registration", data='{"email": "kim@',
                               content_type="application/json")

    assert_problem(response, 400)


def test_a_json_body_that_is_not_an_object_is_a_400_problem(api_client):
    response = api_client.post("/member/registration", data="[1, 2]", content_type="application/json")

    body = assert_problem(response, 400)
    assert "nonFieldErrors" in body["errors"]


def test_a_form_encoded_body_is_a_415_problem(api_client):
    response = api_client.post("/member/registration", data="email=a",
                               content_type="application/x-www-form-urlencoded")

    assert_problem(response, 415)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_route_is_a_404_problem(api_client, method):
    response = getattr(api_client, method)("/no/such/route")

    assert_problem(response, 404)


def test_an_unknown_route_is_a_404_problem_when_debug_is_on(api_client, settings):
    settings.DEBUG = True

    assert_problem(api_client.get("/member/nothing-here"), 404)


def test_a_wrong_method_is_a_405_problem(api_client):
    response = api_client.get("/member/registration")

    assert_problem(response, 405)


def test_a_wrong_method_on_an_authenticated_route_is_a_401_or_405_problem_never_html(member_client, member):
    response = member_client.delete(f"/member/members/{member.id}")

    assert_problem(response, 405)


@pytest.mark.urls("tests.shared.crash_urls")
def test_a_crash_in_an_api_view_is_a_500_problem_without_internals():
    client = APIClient(raise_request_exception=False)

    response = client.get("/test/crash-api")

    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["title"] == "Internal Server Error"


@pytest.mark.urls("tests.shared.crash_urls")
def test_a_crash_in_a_plain_django_view_is_a_500_problem():
    client = APIClient(raise_request_exception=False)

    response = client.get("/test/crash-view")

    assert_problem(response, 500)
    assert "secret internal detail" not in response.content.decode()


@pytest.mark.urls("tests.shared.crash_urls")
def test_a_domain_conflict_is_a_409_problem_with_its_detail(api_client):
    body = assert_problem(api_client.get("/test/conflict"), 409)

    assert body["detail"] == "The thing is taken."
    assert body["title"] == "Conflict"
    assert body["type"] == "about:blank"


@pytest.mark.urls("tests.shared.crash_urls")
def test_a_domain_permission_error_is_a_403_problem(member_client):
    assert_problem(member_client.get("/test/forbidden"), 403)


def test_every_domain_error_maps_to_its_status():
    cases = {
        errors.NotFound(): 404, errors.Conflict(): 409, errors.PermissionDenied(): 403,
        errors.Unauthorized(): 401, errors.ValidationFailed({"f": "bad"}): 400, errors.DomainError(): 400,
    }
    for error, status in cases.items():
        response = problem_exception_handler(error, {})
        assert response.status_code == status
        assert response.data["status"] == status


def test_validation_failed_lists_its_field_errors():
    response = problem_exception_handler(errors.ValidationFailed({"cursor": "Invalid cursor."}), {})

    assert response.data["errors"] == {"cursor": ["Invalid cursor."]}


def test_a_django_validation_error_is_a_400_with_field_errors():
    error = DjangoValidationError({"email": ["Bad."], "__all__": ["Whole."]})

    response = problem_exception_handler(error, {})

    assert response.status_code == 400
    assert response.data["errors"] == {"email": ["Bad."], "nonFieldErrors": ["Whole."]}


def test_unknown_exceptions_are_left_to_django():
    assert problem_exception_handler(RuntimeError("boom"), {}) is None


def test_nested_errors_are_flattened_with_paths():
    detail = {"items": [{}, {"quantity": ["Too small."]}], "name": ["Required."],
              "address": {"city": ["Bad."]}}

    assert flatten_errors(detail) == {
        "items[1].quantity": ["Too small."], "name": ["Required."], "address.city": ["Bad."],
    }
