"""The members context's tables: the member (Django's user model) itself.

Login tokens live in django-rest-knox's table (``knox.AuthToken``), owned by this context too.
"""
from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def normalize_email(email: str) -> str:
    """One spelling per mailbox: ``" Kim@Example.COM "`` and ``"kim@example.com"`` are the same member."""
    return email.strip().lower()


class Role(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class MemberManager(BaseUserManager):
    """For Django's machinery (``createsuperuser``, fixtures). Sign-ups go through ``member_register``."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> Member:
        if not email:
            raise ValueError("A member needs an email address.")
        member = self.model(email=normalize_email(email), **fields)
        member.set_password(password)
        member.save(using=self._db)
        return member

    def create_superuser(self, email: str, password: str | None = None, **fields) -> Member:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if not fields["is_staff"] or not fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> Member:
        return self.get(email=normalize_email(username))


class Member(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True, help_text="Stored lower-case; unique regardless of case.")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.BUYER)
    is_staff = models.BooleanField(default=False, help_text="May log into the Django admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            # the unique index on email is then a case-insensitive one
            models.CheckConstraint(condition=models.Q(email=Lower("email")),
                                   name="members_member_email_lower"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values),
                                   name="members_member_role_valid"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
