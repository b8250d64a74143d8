"""A URL map for tests that need views which crash or raise specific errors."""
from django.contrib.auth.models import Group
from django.urls import path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from commerce.shared import errors
from commerce.shared.http.pagination import CursorPagination
from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


class CrashApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail")


class ConflictApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise errors.Conflict("The thing is taken.")


class ForbiddenApi(APIView):
    def get(self, request):
        raise errors.PermissionDenied()


class GroupListApi(ListAPIView):
    permission_classes = [AllowAny]
    queryset = Group.objects.all()
    pagination_class = CursorPagination
    ordering = ("name", "id")

    class serializer_class(serializers.BaseSerializer):  # noqa: N801
        def to_representation(self, instance):
            return instance.name


def crash_view(request):
    raise RuntimeError("secret internal detail")


urlpatterns = [
    path("test/crash-api", CrashApi.as_view()),
    path("test/conflict", ConflictApi.as_view()),
    path("test/forbidden", ForbiddenApi.as_view()),
    path("test/crash-view", crash_view),
    path("test/groups", GroupListApi.as_view()),
    *urlpatterns,
]
