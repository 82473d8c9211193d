"""Set-based helpers the ORM does not offer."""

from django.db import connections, router


def insert_from_select(model, values, source):
    """INSERT INTO <model> (<columns>) SELECT <expressions> FROM <source>, in one statement.

    `values` maps the model's field names to expressions evaluated on the rows of the
    queryset `source` (F(), Value(), JSONObject()...). Returns the number of rows written."""
    names = list(values)
    aliases = {f"_col{i}": expression for i, expression in enumerate(values.values())}
    select = source.order_by().values(**aliases)
    sql, params = select.query.sql_with_params()
    using = router.db_for_write(model)
    quote = connections[using].ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    with connections[using].cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {sql}", params)
        return cursor.rowcount
