"""Turn a source contract into DuckDB SQL that types every column and explains every bad row.

The validation runs inside DuckDB over a whole file at once, so it costs one vectorised pass rather
than a Python loop per row. Each rule contributes an optional message; a row's reason is the
messages joined, and an empty reason means the row is valid.
"""

from __future__ import annotations

from ..warehouse import quote_identifier, quote_literal
from .contracts import Field, FieldType, Format, SourceContract

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
PHONE_PATTERN = r"\+?[0-9 ().\-/]+"
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15
INTEGER_PATTERN = r"[+-]?[0-9]+"
# A value longer than this is not a field but a fault (a runaway quote, a pasted file).
MAX_FIELD_CHARS = 1_000_000

_TYPE_LABELS = {
    FieldType.INTEGER: "integer",
    FieldType.DECIMAL: "number",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "ISO date (YYYY-MM-DD)",
    FieldType.TIMESTAMP: "ISO timestamp",
}


def _is_text(source_type: str) -> bool:
    return source_type.upper() in {"VARCHAR", "JSON"}


def typed_expression(field: Field, column: str, source_type: str) -> str:
    """SQL giving the column as the contract's type, NULL when absent or not convertible."""
    text = f"NULLIF(trim(CAST({column} AS VARCHAR)), '')"
    if field.type is FieldType.STRING:
        return f"NULLIF(CAST({column} AS VARCHAR), '')"
    if not _is_text(source_type):
        if field.type is FieldType.TIMESTAMP:
            if "TIME ZONE" in source_type.upper() or source_type.upper() == "TIMESTAMPTZ":
                return f"timezone('UTC', {column})"
            return f"try_cast({column} AS TIMESTAMP)"
        return f"try_cast({column} AS {field.type.value})"
    if field.type is FieldType.TIMESTAMP:
        return f"timezone('UTC', try_cast({text} AS TIMESTAMPTZ))"
    if field.type is FieldType.INTEGER:
        pattern = quote_literal(INTEGER_PATTERN)
        return f"CASE WHEN regexp_full_match({text}, {pattern}) THEN try_cast({text} AS BIGINT) END"
    return f"try_cast({text} AS {field.type.value})"


def _shown(column: str) -> str:
    """The offending value, shortened and quoted, for a human reading the quarantine."""
    return f"'''' || left(CAST({column} AS VARCHAR), 80) || ''''"


def reason_expressions(field: Field, column: str, source_type: str) -> list[str]:
    """One SQL expression per rule; each is a message when the rule is broken, else NULL."""
    name = field.name
    present = (
        f"({column} IS NOT NULL AND trim(CAST({column} AS VARCHAR)) <> '')"
        if _is_text(source_type)
        else f"({column} IS NOT NULL)"
    )
    value = f"trim(CAST({column} AS VARCHAR))"
    rules: list[str] = [
        f"CASE WHEN length(CAST({column} AS VARCHAR)) > {MAX_FIELD_CHARS} "
        f"THEN '{name}: value is ' || length(CAST({column} AS VARCHAR)) "
        f"|| ' characters long, more than the {MAX_FIELD_CHARS} allowed' END",
        f"CASE WHEN strpos(CAST({column} AS VARCHAR), chr(0)) > 0 "
        f"THEN '{name}: value contains a NUL byte' END",
    ]
    if field.required:
        rules.append(f"CASE WHEN NOT {present} THEN '{name}: required field is missing' END")
    if field.type is not FieldType.STRING:
        typed = typed_expression(field, column, source_type)
        label = _TYPE_LABELS[field.type]
        rules.append(
            f"CASE WHEN {present} AND ({typed}) IS NULL "
            f"THEN '{name}: ' || {_shown(column)} || ' is not a valid {label}' END"
        )
    if field.type is FieldType.DECIMAL:
        typed = typed_expression(field, column, source_type)
        rules.append(
            f"CASE WHEN NOT isfinite({typed}) "
            f"THEN '{name}: ' || {_shown(column)} || ' is not a finite number' END"
        )
    if field.format is Format.EMAIL:
        pattern = quote_literal(EMAIL_PATTERN)
        rules.append(
            f"CASE WHEN {present} AND NOT regexp_full_match({value}, {pattern}) "
            f"THEN '{name}: ' || {_shown(column)} || ' is not a valid email address' END"
        )
    if field.format is Format.PHONE:
        pattern = quote_literal(PHONE_PATTERN)
        digits = f"length(regexp_replace({value}, '[^0-9]', '', 'g'))"
        rules.append(
            f"CASE WHEN {present} AND NOT (regexp_full_match({value}, {pattern}) "
            f"AND {digits} BETWEEN {MIN_PHONE_DIGITS} AND {MAX_PHONE_DIGITS}) "
            f"THEN '{name}: ' || {_shown(column)} || ' is not a valid phone number' END"
        )
    if field.allowed:
        allowed = ", ".join(quote_literal(v) for v in field.allowed)
        rules.append(
            f"CASE WHEN {present} AND {value} NOT IN ({allowed}) "
            f"THEN '{name}: ' || {_shown(column)} || ' is not one of {', '.join(field.allowed)}' "
            "END"
        )
    return rules


def validated_select(contract: SourceContract, source_types: dict[str, str], relation: str) -> str:
    """SELECT over ``relation`` giving typed columns, ``_reason`` and, for bad rows, ``_record``.

    ``relation`` must expose every contract field by name (NULL when the file lacks it) plus
    ``_row`` (line or row number in the file), ``_extra`` (JSON of undeclared columns),
    ``_parse_error`` (why a line could not be parsed, else NULL) and ``_raw`` (the line as
    delivered when it could not be parsed); ``source_types`` gives each field's DuckDB type.
    """
    typed: list[str] = []
    rules: list[str] = []
    for field in contract.fields:
        column = quote_identifier(field.name)
        source_type = source_types.get(field.name, "VARCHAR")
        typed.append(f"{typed_expression(field, column, source_type)} AS {column}")
        rules.extend(reason_expressions(field, column, source_type))
    rules.append(
        f"CASE WHEN length(_extra) > {MAX_FIELD_CHARS} THEN 'undeclared columns (kept in _extra) "
        f"hold ' || length(_extra) || ' characters, more than the {MAX_FIELD_CHARS} allowed' END"
    )
    checks = f"concat_ws('; ', {', '.join(rules)})"
    # A line that could not be parsed has no fields to check: its parse error is the reason.
    reason = f"CASE WHEN _parse_error IS NOT NULL THEN _parse_error ELSE {checks} END"
    record_fields = ", ".join(
        f"{quote_identifier(f.name)} := CAST({quote_identifier(f.name)} AS VARCHAR)"
        for f in contract.fields
    )
    record = (
        f"coalesce(_raw, CAST(to_json(struct_pack({record_fields}, _extra := _extra)) AS VARCHAR))"
    )
    return (
        f"SELECT _row, {', '.join(typed)}, _extra, _reason, _record FROM ("
        f"SELECT *, CASE WHEN _reason <> '' THEN {record} END AS _record FROM ("
        f"SELECT *, {reason} AS _reason FROM {relation}))"
    )
