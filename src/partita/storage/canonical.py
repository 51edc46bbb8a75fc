"""The canonical form of data a storage publishes: one Arrow type per kind of column.

Storages write the canonical form and read it back, so what an asset returned, what is
hashed into its data version, what the in-run cache serves and what a later read returns
are the same table, and partitions written from differently typed tables still read back
as one table. The mapping (applied inside lists, structs and maps too):

- timestamps of every unit -> `timestamp[us]`; zoned ones -> `timestamp[us, tz=UTC]`
  (the same instants; the zone they were shown in is not kept)
- `date64` -> `date32`; `time32`/`time64` of every unit -> `time64[us]`;
  durations -> `duration[us]`
- `large_string`, `string_view` -> `string`; `large_binary`, `binary_view` -> `binary`
- `large_list`, list views -> `list` (item field named `element`, as Parquet names it)
- dictionaries -> their (canonical) value type

Converting timestamps, times or durations finer than a microsecond fails if it would
lose precision; the error names the column.
"""

from __future__ import annotations

import pyarrow as pa

from partita.errors import InvalidDataError

TIME_UNIT = "us"
TIME_ZONE = "UTC"
LIST_ITEM = "element"


def canonical_type(data_type: pa.DataType) -> pa.DataType:
    """The type a column of `data_type` is stored and read back as."""
    types = pa.types
    if types.is_dictionary(data_type):
        return canonical_type(data_type.value_type)
    if types.is_timestamp(data_type):
        return pa.timestamp(TIME_UNIT, tz=TIME_ZONE if data_type.tz else None)
    if types.is_date64(data_type):
        return pa.date32()
    if types.is_time(data_type):
        return pa.time64(TIME_UNIT)
    if types.is_duration(data_type):
        return pa.duration(TIME_UNIT)
    if types.is_large_string(data_type) or types.is_string_view(data_type):
        return pa.string()
    if types.is_large_binary(data_type) or types.is_binary_view(data_type):
        return pa.binary()
    if types.is_map(data_type):
        return pa.map_(canonical_field(data_type.key_field), canonical_field(data_type.item_field))
    if (
        types.is_list(data_type)
        or types.is_large_list(data_type)
        or types.is_list_view(data_type)
        or types.is_large_list_view(data_type)
    ):
        return pa.list_(canonical_field(data_type.value_field).with_name(LIST_ITEM))
    if types.is_fixed_size_list(data_type):
        item = canonical_field(data_type.value_field).with_name(LIST_ITEM)
        return pa.list_(item, data_type.list_size)
    if types.is_struct(data_type):
        return pa.struct([canonical_field(data_type.field(i)) for i in range(data_type.num_fields)])
    return data_type


def canonical_field(field: pa.Field) -> pa.Field:
    return field.with_type(canonical_type(field.type))


def canonical_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with every column's canonical type (names and metadata kept)."""
    return pa.schema([canonical_field(field) for field in schema], metadata=schema.metadata)


def canonical_table(table: pa.Table, where: str, location: str) -> pa.Table:
    """`table` in canonical form; returned as is when it already is.

    `where` names the asset and partition and `location` the storage, for errors.
    """
    target = canonical_schema(table.schema)
    # Arrow's type equality ignores the names of list items, which Parquet keeps.
    if type_names(target) == type_names(table.schema):
        return table
    columns = []
    for column, field, wanted in zip(table.columns, table.schema, target, strict=True):
        if str(field.type) == str(wanted.type):
            columns.append(column)
            continue
        try:
            columns.append(column.cast(wanted.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise InvalidDataError(
                f"The data of {where} has a column {field.name!r} of type {field.type} that "
                f"cannot be stored as {wanted.type} in {location}: {error}. Partita stores "
                f"times with microsecond precision: round the column (for example "
                f"Series.dt.floor('us')), or cast it to a type that fits, before returning it."
            ) from error
    return pa.Table.from_arrays(columns, schema=target)


def type_names(schema: pa.Schema) -> list[str]:
    """The columns' types spelled out, nested field names included."""
    return [str(field.type) for field in schema]


def check_unique_names(names: list[str], where: str, location: str, *, ignore_case: bool) -> None:
    """Refuse repeated column names (`ignore_case`: names that differ only in case)."""
    seen: dict[str, str] = {}
    for name in names:
        key = name.casefold() if ignore_case else name
        if key in seen:
            how = "differing only in case " if ignore_case and seen[key] != name else ""
            raise InvalidDataError(
                f"The data of {where} has two columns named {how}{seen[key]!r} and {name!r}, "
                f"which {location} cannot store as separate columns. Rename or drop one of "
                f"them before returning the data."
            )
        seen[key] = name
