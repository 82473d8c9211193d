"""Set-based helpers the ORM does not offer."""

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import NotSupportedError, connections, router
from django.utils.encoding import force_str


def _insert_from_select_sql(model, values, source):
    """(database alias, INSERT ... SELECT statement, parameters), or None when `source`
    cannot have a row (an empty `pk__in`, `.none()`)."""
    names = list(values)
    aliases = {f"_col{i}": expression for i, expression in enumerate(values.values())}
    select = source.order_by().values(**aliases)
    try:
        sql, params = select.query.sql_with_params()
    except EmptyResultSet:
        return None
    using = router.db_for_write(model)
    quote = connections[using].ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    return using, f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {sql}", params


def insert_from_select(model, values, source) -> int:
    """INSERT INTO <model> (<columns>) SELECT <expressions> FROM <source>, in one statement.

    `values` maps the model's field names to expressions evaluated on the rows of the
    queryset `source` (F(), Value(), JSONObject()...). Returns the number of rows written."""
    statement = _insert_from_select_sql(model, values, source)
    if statement is None:
        return 0
    using, sql, params = statement
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_from_select_pks(model, values, source) -> list:
    """As insert_from_select, and return the primary keys of the rows written, in order,
    from the INSERT itself (`... RETURNING <pk>`: PostgreSQL, SQLite 3.35 and later)."""
    statement = _insert_from_select_sql(model, values, source)
    if statement is None:
        return []
    using, sql, params = statement
    connection = connections[using]
    if not connection.features.can_return_rows_from_bulk_insert:
        raise NotSupportedError(f"{connection.display_name} cannot return the rows it inserts")
    pk = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {pk}", params)
        return sorted(row[0] for row in cursor.fetchall())


class ChoiceLabels:
    """Model mixin (before models.Model in the bases): `get_FOO_display()` without
    translating every label of the field's choices on each call.

    Django's own builds a dict of all the choices per call, and hashing a lazy label
    translates it: a list of 20 rows with a 12-choice status translated 240 labels. Here
    the value → label map is built once per field, and only the label shown is
    translated, in the active language."""

    def _get_FIELD_display(self, field):
        labels = field.__dict__.get("_choice_labels")
        if labels is None:
            try:
                labels = {value: label for value, label in field.flatchoices}
            except TypeError:  # a choice value that cannot be a dict key
                return super()._get_FIELD_display(field)
            field._choice_labels = labels
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, value)
        except TypeError:
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)


def page_of(queryset, number, per_page: int) -> Page:
    """Page `number` of `queryset` with its rows loaded, as Paginator.get_page gives it
    (what is not a number gives the first page, a number out of range the last). The
    first page costs one query, not two, when everything fits on it: it reads
    per_page + 1 rows and counts those instead of running COUNT(*). Most customers'
    lists are that short."""
    try:
        first = int(number or 1) == 1
    except (TypeError, ValueError):
        first = True
    if first:
        rows = list(queryset[:per_page + 1])
        if len(rows) <= per_page:
            return Paginator(rows, per_page).page(1)
        page = Paginator(queryset, per_page).page(1)  # counts
        page.object_list = rows[:per_page]
        return page
    page = Paginator(queryset, per_page).get_page(number)
    page.object_list = list(page.object_list)
    return page
