"""No database relation may cross a context boundary: another context's things are referenced by
their id as a plain value. import-linter cannot see this, because Django relations are often
declared with strings ("catalog.Product", settings.AUTH_USER_MODEL)."""
from collections.abc import Iterable

from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps


def commerce_app_name(model: type[models.Model]) -> str | None:
    """The commerce app that owns the model (``commerce.orders``), or None for Django's and
    third-party apps."""
    name = model._meta.app_config.name
    return name if name.startswith("commerce.") else None


def cross_context_relations(all_models: Iterable[type[models.Model]]) -> list[str]:
    """Every ForeignKey, OneToOneField and ManyToManyField declared on one commerce app's model
    that points at a model of another commerce app, as readable "from -> to" lines."""
    found = []
    for model in all_models:
        owner = commerce_app_name(model)
        if owner is None:
            continue
        for field in [*model._meta.local_fields, *model._meta.local_many_to_many]:
            if not field.is_relation or field.related_model is None:
                continue  # plain columns; GenericForeignKey has no fixed target
            target = commerce_app_name(field.related_model)
            if target is not None and target != owner:
                found.append(
                    f"{model._meta.label}.{field.name} ({type(field).__name__}) -> "
                    f"{field.related_model._meta.label}"
                )
    return sorted(found)


def test_no_model_relation_crosses_a_context_boundary():
    # given every installed model (the user model members.Member included)
    # when relations are checked
    violations = cross_context_relations(apps.get_models())

    # then none of them points into another commerce app
    assert violations == [], (
        "Store the other context's id as a plain UUIDField/CharField instead of a relation:\n"
        + "\n".join(violations)
    )


@isolate_apps("commerce.orders", "commerce.catalog", "commerce.members", "django.contrib.contenttypes")
def test_the_check_reports_relations_into_other_contexts_and_ignores_the_rest():
    # given throwaway models: relations within a context, to Django's models, and across contexts
    from django.contrib.contenttypes.models import ContentType

    class FakeProduct(models.Model):  # noqa: DJ008 - throwaway model
        class Meta:
            app_label = "catalog"

    class FakeMember(models.Model):  # noqa: DJ008 - throwaway model
        class Meta:
            app_label = "members"

    class FakeOrder(models.Model):  # noqa: DJ008 - throwaway model
        product = models.ForeignKey(FakeProduct, on_delete=models.PROTECT)
        buyer = models.OneToOneField("members.FakeMember", on_delete=models.PROTECT)
        kind = models.ForeignKey(ContentType, on_delete=models.PROTECT)

        class Meta:
            app_label = "orders"

    class FakeOrderLine(models.Model):  # noqa: DJ008 - throwaway model
        order = models.ForeignKey(FakeOrder, on_delete=models.CASCADE)
        bundles = models.ManyToManyField(FakeProduct)

        class Meta:
            app_label = "orders"

    # when the check runs over them
    violations = cross_context_relations([FakeProduct, FakeMember, FakeOrder, FakeOrderLine])

    # then exactly the three cross-context relations are reported
    assert violations == [
        "orders.FakeOrder.buyer (OneToOneField) -> members.FakeMember",
        "orders.FakeOrder.product (ForeignKey) -> catalog.FakeProduct",
        "orders.FakeOrderLine.bundles (ManyToManyField) -> catalog.FakeProduct",
    ]
