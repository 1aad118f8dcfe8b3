"""PostgreSQL's schema as a set of lines, so that a test which alters the session's shared database (as an
owner tampering would) and does not put it back is caught at its own end, not by a later test's plan.

A line per relation (kind, owner, grants, row-level security), column, index, constraint, trigger, rule,
view definition, policy and function of the public schema: what the migrations make, and what tampering
tests change.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_SCHEMA_LINES = text(
    r"""
    SELECT concat_ws(' ', 'relation', c.relname, c.relkind, c.relowner::regrole, c.relacl,
        c.relrowsecurity, c.relforcerowsecurity)
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT concat_ws(' ', 'column', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
        a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid AND c.relnamespace = 'public'::regnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT concat_ws(' ', 'index', indexdef) FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT concat_ws(' ', 'constraint', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT concat_ws(' ', 'trigger', tgrelid::regclass, tgname, tgenabled) FROM pg_trigger
    WHERE NOT tgisinternal
    UNION ALL
    SELECT concat_ws(' ', 'rule', tablename, rulename) FROM pg_rules WHERE schemaname = 'public'
    UNION ALL
    SELECT concat_ws(' ', 'view', viewname, regexp_replace(definition, '[[:space:]]+', ' ', 'g'))
    FROM pg_views WHERE schemaname = 'public'
    UNION ALL
    SELECT concat_ws(' ', 'policy', polrelid::regclass, polname) FROM pg_policy
    UNION ALL
    SELECT concat_ws(' ', 'function', proname, pg_get_function_identity_arguments(oid))
    FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    """
)


def schema_lines(connection: Connection) -> frozenset[str]:
    return frozenset(connection.execute(_SCHEMA_LINES).scalars())


def schema_changes(before: frozenset[str], after: frozenset[str]) -> str:
    """The difference, a line each: "-" gone since `before`, "+" new."""
    gone = sorted(f"- {line}" for line in before - after)
    new = sorted(f"+ {line}" for line in after - before)
    return "\n".join([*gone, *new])
