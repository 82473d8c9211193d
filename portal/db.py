"""Set-based helpers the ORM does not offer."""

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import NotSupportedError, connections, router
from django.db.models import Value
from django.db.models.functions import Cast
from django.utils.encoding import force_str


def _typed(expression, field=None):
    """`expression` with each Value in it cast to its type: the field it is written to,
    else the type the Value says or implies. PostgreSQL receives the parameters apart
    from the statement (server-side binding, portal.settings), and a bare parameter in a
    SELECT list or in a function taking any type has no type it could infer."""
    if isinstance(expression, Value):
        field = field or expression._output_field_or_none
        return expression if field is None else Cast(expression, output_field=field)
    if not hasattr(expression, "get_source_expressions"):
        return expression
    copy = expression.copy()
    copy.set_source_expressions([_typed(part) for part in expression.get_source_expressions()])
    return copy


def _insert_from_select_sql(model, values, source):
    """(database alias, INSERT ... SELECT statement, parameters), or None when `source`
    cannot have a row (an empty `pk__in`, `.none()`)."""
    names = list(values)
    using = router.db_for_write(model)
    if connections[using].vendor == "postgresql":
        values = {name: _typed(expression, model._meta.get_field(name))
                  for name, expression in values.items()}
    aliases = {f"_col{i}": expression for i, expression in enumerate(values.values())}
    select = source.order_by().values(**aliases)
    try:
        sql, params = select.query.sql_with_params()
    except EmptyResultSet:
        return None
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


def page_of(query, number, per_page: int) -> Page:
    """Page `number` of `query` (a queryset, or a ReusableQuery's `bound` read) with its
    rows loaded, as Paginator.get_page gives it (what is not a number gives the first
    page, a number out of range the last). The first page costs one query, not two, when
    everything fits on it: it reads per_page + 1 rows and counts those instead of running
    COUNT(*). Most customers' lists are that short."""
    try:
        first = int(number or 1) == 1
    except (TypeError, ValueError):
        first = True
    if first:
        rows = query.rows(per_page + 1) if isinstance(query, BoundQuery) else list(
            query[:per_page + 1])
        if len(rows) <= per_page:
            return Paginator(rows, per_page).page(1)
        if isinstance(query, BoundQuery):
            paginator = Paginator(rows, per_page)
            paginator.count = query.count()  # one COUNT(*), compiled once too
        else:
            paginator = Paginator(query, per_page)
        page = paginator.page(1)
        page.object_list = rows[:per_page]
        return page
    page = Paginator(_queryset(query), per_page).get_page(number)
    page.object_list = list(page.object_list)
    return page


def _queryset(query):
    return query.queryset() if isinstance(query, BoundQuery) else query


COUNT = object()  # the shape of ReusableQuery's COUNT(*) statement, in place of a limit


class ReusableQuery:
    """A read the ORM builds and compiles once per process and database, then runs again
    with other argument values. On this project's pages building and compiling a query
    costs about ten times what PostgreSQL takes to answer it (issue 18's profiles: 0.86
    ms of CPU against 0.07 for a page of services).

    `build(**arguments)` returns a `values_list()` queryset; the arguments are ids and
    keys (int or str) or lists of ints, used by the query as plain parameters. The query
    is built once with stand-in values for each shape (the lengths of list arguments and
    the row limit), then run with the real values in their place and the ORM's own
    converters on the rows. When a stand-in cannot be found among the compiled
    parameters (the ORM inlined or transformed it), or the query can have no row, each
    call builds the query anew: always right, just not faster."""

    def __init__(self, build):
        self.build = build
        self._compiled = {}

    def bind(self, **arguments) -> "BoundQuery":
        return BoundQuery(self, arguments)

    def rows(self, *, limit: int | None = None, **arguments) -> list[tuple]:
        return self.bind(**arguments).rows(limit)

    def _statement(self, arguments: dict, limit: int | None):
        shape = (limit, *sorted((name, type(value), len(value) if isinstance(value, list)
                                 else None) for name, value in arguments.items()))
        entry = self._compiled.get(shape)
        if entry is None:
            entry = self._compile(arguments, limit)
            self._compiled[shape] = entry
        return entry

    def _compile(self, arguments: dict, limit):
        stand_ins, where = {}, {}
        for name, value in arguments.items():
            if isinstance(value, list):
                stand_ins[name] = [_stand_in(where, (name, i), int) for i in range(len(value))]
            else:
                stand_ins[name] = _stand_in(where, (name, None), type(value))
        if limit is COUNT:
            queryset = self.build(**stand_ins).order_by()
        else:
            queryset = self._limited(self.build(**stand_ins), limit)
        compiler = queryset.query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        if limit is COUNT:
            sql = f"SELECT COUNT(*) FROM ({sql}) AS counted"
        slots = [where.get((type(param), param)) for param in params]
        found = {slot for slot in slots if slot is not None}
        if found != set(where.values()) or any(str(value) in sql for _type, value in where):
            return None
        return queryset.db, sql, list(params), slots, compiler

    @staticmethod
    def _limited(queryset, limit):
        return queryset[:limit] if limit is not None else queryset


def _stand_in(where: dict, slot: tuple, kind: type):
    """A value no real argument has (a large negative id, a control-character key)."""
    number = len(where) + 1
    value = -7_300_000_000_000 - number if kind is int else f"\x1fstand-in-{number}\x1f"
    where[(type(value), value)] = slot
    return value


class BoundQuery:
    """A ReusableQuery with its arguments: `rows(limit)`, or the `queryset()` itself for
    what the ORM should do (counts, later pages)."""

    def __init__(self, reusable: ReusableQuery, arguments: dict):
        self.reusable, self.arguments = reusable, arguments

    def queryset(self):
        return self.reusable.build(**self.arguments)

    def rows(self, limit: int | None = None) -> list[tuple]:
        entry = self.reusable._statement(self.arguments, limit)
        if entry is None:
            return list(ReusableQuery._limited(self.queryset(), limit))
        using, sql, params, slots, compiler = entry
        with connections[using].cursor() as cursor:
            cursor.execute(sql, self._params(params, slots))
            fetched = cursor.fetchall()
        return list(compiler.results_iter([fetched], tuple_expected=True))

    def count(self) -> int:
        """How many rows the query has (its own COUNT(*), built once as well)."""
        entry = self.reusable._statement(self.arguments, COUNT)
        if entry is None:
            return self.queryset().count()
        using, sql, params, slots, _compiler = entry
        with connections[using].cursor() as cursor:
            cursor.execute(sql, self._params(params, slots))
            return cursor.fetchone()[0]

    def _params(self, params: list, slots: list) -> list:
        return [value if slot is None else self._argument(slot)
                for value, slot in zip(params, slots)]

    def _argument(self, slot):
        name, index = slot
        value = self.arguments[name]
        return value if index is None else value[index]
