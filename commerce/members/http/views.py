"""Member endpoints: parse, call a service or selector, serialize. Errors are raised, not handled
here; ``commerce.shared.http.exceptions`` renders them."""
from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.members import selectors, services
from commerce.members.http.serializers import (
    LoginTokenSerializer,
    MemberLoginSerializer,
    MemberRegistrationSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
)
from commerce.members.http.throttling import LoginAccountThrottle, LoginAddressThrottle
from commerce.shared.errors import Unauthorized
from commerce.shared.http.problems import problem_responses

TAGS = ["member"]


class MemberRegistrationApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="member_register", summary="Register a buyer or seller", tags=TAGS, auth=[],
        request=MemberRegistrationSerializer,
        responses={201: MemberSerializer, **problem_responses(400, 409, 415)},
    )
    def post(self, request):
        serializer = MemberRegistrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = services.member_register(
            email=data["email"], password=data["password"], display_name=data["name"], role=data["role"],
        )
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberLoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginAccountThrottle, LoginAddressThrottle]

    @extend_schema(
        operation_id="member_login", summary="Log in: get a bearer token", tags=TAGS, auth=[],
        request=MemberLoginSerializer,
        responses={200: LoginTokenSerializer, **problem_responses(
            400, 401, 415, 429, descriptions={401: "Wrong email or password (the same answer for both)."})},
    )
    def post(self, request):
        serializer = MemberLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.member_login(**serializer.validated_data)
        for throttle in self.get_throttles():
            throttle.record_success(request, self)
        return Response(LoginTokenSerializer(issued).data)

    def handle_exception(self, exc):
        if isinstance(exc, Unauthorized):
            for throttle in self.get_throttles():
                throttle.record_failure(self.request, self)
        return super().handle_exception(exc)


class MemberLogoutApi(APIView):
    @extend_schema(
        operation_id="member_logout", summary="Log out: revoke the token of this request", tags=TAGS,
        request=None,
        responses={204: OpenApiResponse(description="Token revoked."), **problem_responses(
            401, 503, descriptions={503: "The token cache is unreachable: nothing was revoked; try again."})},
    )
    def post(self, request):
        services.member_logout(token_digest=request.auth.digest)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetailApi(APIView):
    @extend_schema(
        operation_id="member_get", summary="Get your own member record", tags=TAGS,
        responses={200: MemberSerializer, **problem_responses(401, 404)},
    )
    def get(self, request, userId: UUID):  # noqa: N803 (path parameter named as in the contract)
        member = selectors.member_get(member_id=userId, requester_id=request.user.id)
        return Response(MemberSerializer(member).data)

    @extend_schema(
        operation_id="member_update", summary="Change your own name or password", tags=TAGS,
        description="A new `password` needs the correct `currentPassword`, else 400 with "
                    "`errors.currentPassword`. Changing the password revokes every other token.",
        request=MemberUpdateSerializer,
        responses={200: MemberSerializer, **problem_responses(
            400, 401, 404, 415, 503,
            descriptions={503: "A password change while the token cache is unreachable: nothing was changed."})},
    )
    def put(self, request, userId: UUID):  # noqa: N803
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = services.member_update(
            member_id=userId, requester_id=request.user.id,
            name=data.get("name"), password=data.get("password"),
            current_password=data.get("currentPassword"),
            current_token_digest=request.auth.digest,
        )
        return Response(MemberSerializer(member).data)
