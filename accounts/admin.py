import operator
from functools import reduce

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext

from accounts import selectors, services
from accounts.forms import NormalisedEmailField, ReasonForm
from accounts.models import (
    EmailChangeRequest,
    PasswordResetAttempt,
    RecoveryRequest,
    SecurityEvent,
    User,
)
from portal.admin import CappedCountPaginator, PortalModelAdmin
from portal.errors import DomainError

ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")


# The row checkbox's label as django.contrib.admin words it: translated by Django's own
# catalogs (es, fr), not ours.
DJANGO_ROW_CHECKBOX_LABEL = "Select this object for an action - {}"
# Past this many matches a text search lets the database walk the list's order.
SEARCH_MATCHES_MAX = 1000
# A trigram index (accounts 0022) finds a word of this many letters anywhere in a column;
# a shorter one ("Li", "Wu") has no trigram and would read the whole table, so it is
# matched at the start of a column instead, which the same index answers.
SUBSTRING_MIN_LENGTH = 3


def search_words(term):
    """The words of a search as the admin splits them: on spaces, "a quoted phrase" kept
    whole."""
    words = []
    for word in smart_split(term):
        if word[:1] in "\"'" and word[-1:] == word[:1] and len(word) > 1:
            word = unescape_string_literal(word)
        if word.strip():
            words.append(word)
    return words


class SearchCountPaginator(CappedCountPaginator):
    """A search's matches are counted up to SEARCH_MATCHES_MAX only: past that, staff
    narrow the search rather than page through it, and counting ten thousand matches of
    a short word read as many table rows (35 ms at a million customers)."""

    COUNT_CAP = SEARCH_MATCHES_MAX

    def __init__(self, *args, known_count=None, **kwargs):
        super().__init__(*args, **kwargs)
        if known_count is not None:  # the search counted its matches already
            self.__dict__["count"] = min(known_count, self.COUNT_CAP)


@admin.register(User)
class UserAdmin(PortalModelAdmin):
    """Customers. Staff never see or set a password: they send a reset link. Every change
    lands in the customer's security log and the customer is told."""

    list_display = ("nic_handle", "email", "first_name", "last_name", "organisation",
                    "country_name", "email_confirmed_at", "is_active", "date_joined")
    list_filter = ("is_active", "is_staff", "legal_form", "language", "login_notifications",
                   "date_joined")
    search_fields = ("nic_handle", "email", "spare_email", "first_name", "last_name",
                     "phone", "organisation")
    ordering = ("-date_joined",)
    # A million customers: no COUNT of the whole table (show_full_result_count) nor of
    # a search's matches past a cap (the paginator); names are searched through the
    # trigram indexes of migration 0018 on PostgreSQL.
    show_full_result_count = False
    paginator = CappedCountPaginator
    # The admin's rows cost about a millisecond each to render (eleven columns, the
    # checkbox's widget): a search finds its customer among 25 as well as among 100.
    list_per_page = 25
    actions = ["send_password_reset"]
    fieldsets = (
        (None, {"fields": ("nic_handle", "email", "spare_email", "email_confirmed_at")}),
        (_("Identity"), {"fields": ("first_name", "last_name", "legal_form", "organisation",
                                    "vat_number")}),
        (_("Address"), {"fields": ("address", "city", "zip", "country", "phone")}),
        (_("Preferences"), {"fields": ("language", "login_notifications")}),
        (_("Access"), {"fields": (*ACCESS_FIELDS, "last_login", "date_joined")}),
    )
    filter_horizontal = ("groups", "user_permissions")
    # The spare address, stored in normal form like every address.
    formfield_overrides = {models.EmailField: {"form_class": NormalisedEmailField}}

    search_help_text = _("A customer ID or an email address finds that customer at once; "
                         "other words are searched in names, phone and organisation.")

    def action_checkbox(self, obj):
        # The same input as the admin's own, written directly: its widget went through
        # the form renderer's templates once per row (the header cell is the admin's).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="{}">', ACTION_CHECKBOX_NAME, obj.pk,
            format_html(gettext(DJANGO_ROW_CHECKBOX_LABEL), str(obj)))

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, obj):
        # The admin's own display of a choice field builds the dict of all 250
        # countries, translated, for every row: 100 rows took most of the page's time.
        return obj.country.name or self.get_empty_value_display()

    def get_paginator(self, request, queryset, per_page, orphans=0,
                      allow_empty_first_page=True):
        if not search_words(request.GET.get(SEARCH_VAR, "")):
            return self.paginator(queryset, per_page, orphans, allow_empty_first_page)
        return SearchCountPaginator(queryset, per_page, orphans, allow_empty_first_page,
                                    known_count=getattr(request, "customer_search_matches",
                                                        None))

    def get_search_results(self, request, queryset, search_term):
        # A NIC handle or an email address goes straight to its customer through the
        # case-blind unique indexes; only other words search the text columns.
        exact = selectors.customers_by_login(term=search_term)
        if exact is not None:
            return queryset & exact, False
        words = search_words(search_term)
        if not words:
            return queryset, False
        # Every word must match one of the columns (as the admin's own search): a word of
        # three letters or more anywhere in it, a shorter one at its start.
        found = queryset
        for word in words:
            lookup = "icontains" if len(word) >= SUBSTRING_MIN_LENGTH else "istartswith"
            found = found.filter(reduce(operator.or_, (
                Q(**{f"{field}__{lookup}": word}) for field in self.search_fields)))
        if connection.vendor != "postgresql" or min(map(len, words)) < SUBSTRING_MIN_LENGTH:
            # A start of one or two letters matches many customers: walking the list's
            # order finds a page soonest.
            return found, False
        # The matches first, through the trigram indexes (no ORDER BY); then the page of
        # them in the list's order. In one query the planner walks the whole "newest
        # first" index and tests each customer: 1.5 s at a million for 200 matches.
        ids = list(found.order_by().values_list("pk", flat=True)[:SEARCH_MATCHES_MAX + 1])
        if len(ids) <= SEARCH_MATCHES_MAX:
            # The list's filters came before the search: these are all the matches,
            # so the paginator needs no COUNT of them.
            request.customer_search_matches = len(ids)
            return queryset.filter(pk__in=ids), False
        return found, False  # a common word: the ordered walk finds a page soon

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Each permission's label names its content type: one query for all of them
        # instead of one per permission (as django.contrib.auth's UserAdmin does).
        if db_field.name == "user_permissions":
            kwargs["queryset"] = Permission.objects.select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # The primary email changes through an email-change or recovery request.
        readonly = ["nic_handle", "email", "email_confirmed_at", "date_joined", "last_login"]
        if not request.user.is_superuser:
            readonly += ACCESS_FIELDS
        return readonly

    def has_add_permission(self, request):
        # Customers sign up themselves; staff accounts come from createsuperuser.
        return False

    def has_change_permission(self, request, obj=None):
        # An agent sees a staff account read-only (and a POST is refused).
        return super().has_change_permission(request, obj) and (
            obj is None or obj.may_be_managed_by(request.user))

    def save_model(self, request, obj, form, change):
        changed = [name for name in form.changed_data if name not in ("groups", "user_permissions")]
        obj.save()
        if change and changed:
            services.staff_account_changed(user=obj, staff_user=request.user, request=request,
                                           what="profile_edit", fields=sorted(changed))

    @admin.action(description=_("Send a password reset link"), permissions=["change"])
    def send_password_reset(self, request, queryset):
        count, refused, reason = 0, [], ""
        for user in queryset:
            try:
                services.password_reset_send_by_staff(user=user, staff_user=request.user,
                                                      request=request)
            except services.StaffActionRefused as error:
                refused.append(user.nic_handle)
                reason = str(error)
                continue
            count += 1
        if count:
            self.message_user(request, ngettext("Reset link sent to %(count)d customer.",
                                                "Reset link sent to %(count)d customers.", count)
                              % {"count": count})
        if refused:
            self.message_user(request, _("No reset link sent to %(nic_handles)s. %(reason)s")
                              % {"nic_handles": ", ".join(refused), "reason": reason},
                              messages.ERROR)


class ReadOnlyAdmin(PortalModelAdmin):
    """Records written by the application only: staff read them, never add, edit or
    delete them."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "action", "actor", "ip_address")
    list_filter = ("action", "created_at")
    search_fields = ("user__nic_handle", "user__email", "ip_address")
    list_select_related = ("user", "actor")
    date_hierarchy = "created_at"
    show_full_result_count = False


class DecisionAdminMixin:
    """Buttons on a request's page that call a service with a reason (approve, refuse,
    abort, force...). `decisions` maps a name to (label, service function)."""

    decisions = {}

    def get_urls(self):
        opts = self.model._meta
        return [
            path("<int:pk>/decide/<str:decision>/", self.admin_site.admin_view(self.decide_view),
                 name=f"{opts.app_label}_{opts.model_name}_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "decisions": [(name, label) for name, (label, _f) in self.decisions.items()]}
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, pk, decision):
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if decision not in self.decisions or not self.has_change_permission(request, obj):
            raise PermissionDenied
        label, service = self.decisions[decision]
        form = ReasonForm(request.POST or None)
        opts = self.model._meta
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    service(obj, staff_user=request.user, reason=form.cleaned_data["reason"],
                            request=request)
            except DomainError as error:  # EmailChangeError, StaffActionRefused and others
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _("Done: %(action)s. The customer has been emailed.")
                                  % {"action": label})
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk)
        context = {**self.admin_site.each_context(request), "opts": opts, "original": obj,
                   "form": form, "decision": decision, "title": label}
        return render(request, "admin/decide.html", context)


@admin.register(RecoveryRequest)
class RecoveryRequestAdmin(DecisionAdminMixin, PortalModelAdmin):
    """Requests that matched an account; the others (an unknown NIC handle) stay out of
    sight: there is nothing to decide."""

    list_display = ("created_at", "user", "old_email", "new_email", "state", "decided_by")
    list_filter = ("state",)
    search_fields = ("user__nic_handle", "old_email", "new_email")
    list_select_related = ("user", "decided_by")
    fields = ("user", "old_email", "new_email", "message", "state", "ip_address",
              "created_at", "decided_at", "decided_by", "reason")
    readonly_fields = fields
    change_form_template = "admin/decision_change_form.html"
    decisions = {
        "approve": (_("Approve the request"),
                    lambda obj, **kw: services.recovery_request_approve(recovery=obj, **kw)),
        "refuse": (_("Refuse the request"),
                   lambda obj, **kw: services.recovery_request_refuse(recovery=obj, **kw)),
    }

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user__isnull=False)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EmailChangeRequest)
class EmailChangeRequestAdmin(DecisionAdminMixin, PortalModelAdmin):
    """State, times and attempts; never the code (only its hash exists, and it is hidden)."""

    list_display = ("created_at", "user", "old_email", "new_email", "state", "due_at",
                    "new_email_confirmed_at", "wrong_codes", "codes_sent")
    list_filter = ("state",)
    search_fields = ("user__nic_handle", "old_email", "new_email")
    list_select_related = ("user",)
    fields = ("user", "old_email", "new_email", "state", "created_at", "due_at",
              "new_email_confirmed_at", "code_sent_at", "codes_sent", "wrong_codes",
              "decided_at", "reason")
    readonly_fields = fields
    change_form_template = "admin/decision_change_form.html"
    decisions = {
        "abort": (_("Abort the change"),
                  lambda obj, **kw: services.email_change_staff_abort(change=obj, **kw)),
        "apply": (_("Apply the change now"),
                  lambda obj, **kw: services.email_change_staff_apply(change=obj, **kw)),
    }

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PasswordResetAttempt)
class PasswordResetAttemptAdmin(ReadOnlyAdmin):
    """Who asked for a reset link, for which login, from where; read-only."""

    list_display = ("created_at", "login", "user", "ip_address", "processed_at")
    search_fields = ("login", "user__nic_handle", "ip_address")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False
