import functools

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.shortcuts import redirect
from django.urls import reverse
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core import checks
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.forms import StaffLoginForm

# Columns no admin list may filter, search, sort or show: a lookup such as
# `password__startswith` answers yes or no, and enough of them spell out the value.
SECRET_FIELDS = {"password"}


class PortalAdminSite(admin.AdminSite):
    """Django admin for support staff. A staff login is a login like any other: it is
    throttled (axes) and it writes the security log and the login notification."""

    site_header = _("Customer portal — support")
    site_title = _("Customer portal support")
    login_form = StaffLoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        """Admins of other apps (auth's groups, axes' login attempts) get the same
        bounded lists as the portal's own."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OfferedParametersOnly):
            admin_class = type(admin_class.__name__, (OfferedParametersOnly, admin_class), {})
        return super().register(model_or_iterable, admin_class, **options)

    def login(self, request, extra_context=None):
        """The customers' login, with its second step: admin's own form would skip it."""
        from accounts.views import AdminLoginView

        return AdminLoginView.as_view()(request)

    def admin_view(self, view, cacheable=False):
        """Staff must have proven a second factor in this session to use admin: without
        one they are sent to enrol first, with one to "Confirm it's you"."""
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def second_factor_gate(request, *args, **kwargs):
            from accounts import proof
            from accounts.services import second_factor_enabled

            user = request.user
            if (user.is_active and user.is_staff and not proof.second_factor_proven(request)
                    and request.path != reverse("admin:logout", current_app=self.name)):
                if not second_factor_enabled(user=user):
                    messages.warning(request, _(
                        "Support staff must use two-step verification. Set it up to "
                        "reach the support pages."))
                    return redirect("accounts:totp-enrol")
                return redirect(proof.reauth_url(request.get_full_path()))
            return inner(request, *args, **kwargs)

        return second_factor_gate


class OfferedParametersChangeList(ChangeList):
    """A list that takes only the query parameters its page offers. Search, ordering,
    paging, "all", the error flag, facets and popups never reach get_filters(); what does
    must be a parameter of one of the list filters shown or of the date hierarchy. Django
    would otherwise filter on any lookup of any of the model's own fields."""

    def get_filters(self, request):
        # Nothing is filtered yet: this reads the parameters and builds the list filters.
        # PostgreSQL refuses a NUL in a text value when the list runs its query, after
        # Django's checks of the values: refused here, it gives the "?e=1" page.
        for values in self.get_filters_params().values():
            if any("\x00" in value for value in (values if isinstance(values, list) else [values])):
                raise IncorrectLookupParameters("A filter value holds a NUL character.")
        try:
            filters = super().get_filters(request)
        except (ValueError, OverflowError) as error:
            # A date hierarchy year past the calendar (9999 has no next year or month).
            raise IncorrectLookupParameters(error) from error
        filter_specs = filters[0]
        offered = {name for spec in filter_specs for name in spec.expected_parameters()}
        if self.date_hierarchy:
            offered |= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        unexpected = sorted(set(self.get_filters_params()) - offered)
        if unexpected:
            raise DisallowedModelAdminLookup(f"Filtering by {', '.join(unexpected)} not allowed")
        return filters


class OfferedParametersOnly:
    """A ModelAdmin mixin: the list takes only the parameters its page offers (a 400 for
    anything else, the "?e=1" page for a bad value), and an action only rows it can name
    (a 400 for a selected row that is no id)."""

    def get_changelist(self, request, **kwargs):
        return OfferedParametersChangeList

    def response_action(self, request, queryset):
        # Django filters on the posted ids as they are: one that is no number is a 500.
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.get_prep_value(pk.to_python(value))
        except (ValidationError, ValueError, TypeError) as error:
            raise BadRequest("A selected row is not an id.") from error
        return super().response_action(request, queryset)


class CappedCountPaginator(Paginator):
    """An admin paginator that never counts a big table to the end: it counts at most
    COUNT_CAP + 1 rows (`SELECT COUNT(*) FROM (... LIMIT n)`), so a list or a search
    that matches a million customers costs what one matching ten thousand does. Past
    the cap the list says "10,000" results and offers that many pages; a search narrows
    it."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list.order_by()[:self.COUNT_CAP].count()


class PortalModelAdmin(OfferedParametersOnly, admin.ModelAdmin):
    """The base of every ModelAdmin in the portal: its list takes only the parameters its
    page offers, and no list filter, search field, column or date hierarchy may reach a
    secret (a system check)."""

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_no_secret_in_lists()]

    def _check_no_secret_in_lists(self):
        paths = [item if isinstance(item, str) else item[0] for item in self.list_filter
                 if not isinstance(item, type)]
        paths += [name.lstrip("^=@") for name in self.search_fields]
        paths += [name for name in self.list_display if isinstance(name, str)]
        paths += [self.date_hierarchy] if self.date_hierarchy else []
        return [
            checks.Error(f"{path!r} exposes a secret field ({', '.join(sorted(SECRET_FIELDS))}) "
                         "to the list's filters, search or sorting.",
                         obj=self.__class__, id="portal.E001")
            for path in paths if SECRET_FIELDS & set(path.split("__"))
        ]
