"""Operational endpoints and Django's error handlers, all answering in JSON.

``handler400/403/404/500`` in ``config/urls.py`` point here so that errors raised outside DRF
(unknown routes, crashes, bad hosts) are problem+json too, never Django's HTML pages.
"""
from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.shared.health import OK, run_checks
from commerce.shared.http.problems import problem_http_response


class HealthSerializer(serializers.Serializer):
    # plain strings, not choices: a generic "StatusEnum" component would clash with other contexts'
    status = serializers.CharField(help_text="`ok`, or `unavailable` when any check failed.")
    checks = serializers.DictField(child=serializers.CharField(),
                                   help_text="Each dependency (`database`, `redis`, ...): `ok` or `error`.")


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="health",
        summary="Readiness: every dependency answers",
        tags=["operations"],
        auth=[],
        responses={
            200: OpenApiResponse(HealthSerializer, description="Every dependency answered."),
            503: OpenApiResponse(HealthSerializer, description="At least one check failed."),
        },
    )
    def get(self, request):
        checks = run_checks()
        healthy = all(result == OK for result in checks.values())
        return Response({"status": "ok" if healthy else "unavailable", "checks": checks},
                        status=200 if healthy else 503)


def bad_request(request, exception=None):
    return problem_http_response(400, "The request could not be understood.")


def permission_denied(request, exception=None):
    return problem_http_response(403, "You do not have permission to perform this action.")


def page_not_found(request, exception=None):
    return problem_http_response(404, "No resource at this address.")


def server_error(request):
    return problem_http_response(500, "An unexpected error occurred. It has been logged.")


@csrf_exempt
def route_not_found(request, path=""):
    """Last URL pattern: unknown routes get a problem+json 404 even when DEBUG is on."""
    return page_not_found(request)
