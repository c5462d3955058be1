"""Building the marts: SQL models under ``warehouse/sql`` turned into views and tables.

The models are laid out like a dbt project so each one stays small and readable:

* ``sql/macros.sql`` - rules used by several models (positive threshold, ISO week, Wilson bound, Bayes);
* ``sql/staging/`` - one view per core table, renamed and cast, explicit and inferred scores apart;
* ``sql/intermediate/`` - views that hold one idea each (each critic against the other reviewers of a
  film, per film and per critic, and each review's leave-one-out consensus);
* ``sql/marts/`` - the tables users query and reports read (``MART_TABLES``).

Staging and intermediate models are views, so they never go stale; marts are tables, so reports and
read-only readers do not pay for the aggregation on every query. Each file is one ``select`` (a CTE
chain ending in ``select * from final``) named for the model it defines. The build order is found
from the folders (staging, then intermediate, then marts) and, inside a folder, from the model
names each file mentions, so adding a model needs no change here.
"""

from __future__ import annotations

import hashlib
import re
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path

import duckdb

from warehouse.db import WarehouseError, first_line, rollback, sql_file

MACROS_FILE = "sql/macros.sql"
LAYERS: tuple[tuple[str, str], ...] = (
    ("staging", "view"),
    ("intermediate", "view"),
    ("marts", "table"),
)
MART_TABLES: tuple[str, ...] = (
    "critic_stats",
    "film_scores",
    "weekly_critic_activity",
    "weekly_film_scores",
    "weekly_reviews",
)
REQUIRED_PARAMS: tuple[str, ...] = ("bayes_m", "positive_threshold", "harshness_k", "min_reviews_top")

_MODEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LINE_COMMENT = re.compile(r"--[^\n]*")


def _layer_models(layer: str) -> dict[str, str]:
    """Model name -> SQL text of every ``.sql`` file in one layer folder."""
    folder = resources.files("warehouse").joinpath("sql", layer)
    models: dict[str, str] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        name = entry.name.removesuffix(".sql")
        if not _MODEL_NAME.match(name):
            raise WarehouseError(f"model file sql/{layer}/{entry.name} must be named like a table (a-z, 0-9, _)")
        models[name] = sql_file(f"sql/{layer}/{entry.name}")
    return models


def references(sql: str, names: set[str]) -> set[str]:
    """The model names a query mentions outside ``--`` comments (its dependencies)."""
    words = set(re.findall(r"[a-z_][a-z0-9_]*", _LINE_COMMENT.sub("", sql).lower()))
    return words & names


def build_plan() -> list[tuple[str, str, str]]:
    """(name, materialization, sql) of every model in the order it must be created.

    Layers come in LAYERS order; inside a layer, a model comes after the models it mentions. A model
    that mentions one of a later layer, or a cycle, is a mistake in the SQL and raises WarehouseError.
    """
    layers = [(layer, kind, _layer_models(layer)) for layer, kind in LAYERS]
    plan: list[tuple[str, str, str]] = []
    for index, (layer, kind, models) in enumerate(layers):
        later = {name for _, _, other in layers[index + 1:] for name in other}
        graph: dict[str, set[str]] = {}
        for name, sql in sorted(models.items()):
            too_late = references(sql, later)
            if too_late:
                raise WarehouseError(f"{layer} model {name} uses later-layer models {sorted(too_late)}")
            graph[name] = references(sql, set(models)) - {name}
        try:
            order = list(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            raise WarehouseError(f"{layer} models depend on each other in a cycle: {exc.args[1]}") from None
        plan.extend((name, kind, models[name].strip().rstrip(";")) for name in order)
    return plan


def check_params(conn: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The mart parameters, checked: each required name present exactly once.

    The SQL reads parameters through the ``mart_param`` macro, a scalar subquery; a missing name
    would silently give nulls and a duplicated one a cryptic subquery error, so fail clearly first.
    """
    rows = conn.execute("select name, value from mart_params").fetchall()
    counts: dict[str, int] = {}
    for name, _ in rows:
        counts[name] = counts.get(name, 0) + 1
    missing = [name for name in REQUIRED_PARAMS if name not in counts]
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if missing or repeated:
        raise WarehouseError(f"mart_params needs each of {', '.join(REQUIRED_PARAMS)} exactly once; "
                             f"missing {missing or 'none'}, repeated {repeated or 'none'}")
    return {name: value for name, value in rows}


def _drop_retired_views(conn: duckdb.DuckDBPyConnection, models: set[str]) -> None:
    """Staging and intermediate views an earlier version built under a name no model has now (a renamed
    model): left in place they would answer queries with the old rules."""
    retired = conn.execute(
        "select view_name from duckdb_views() where schema_name = 'main' and database_name = current_database() "
        "and not internal and (view_name like 'stg\\_%' escape '\\' or view_name like 'int\\_%' escape '\\')"
    ).fetchall()
    for (name,) in retired:
        if name not in models:
            conn.execute(f'drop view "{name}"')


def define_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """The shared rules of sql/macros.sql, which the load's upsert uses too (names_nobody)."""
    conn.execute(sql_file(MACROS_FILE))


def fingerprint(plan: list[tuple[str, str, str]] | None = None) -> str:
    """What the marts are built from: the shared macros and every model's name, kind and SQL."""
    digest = hashlib.sha256(sql_file(MACROS_FILE).encode())
    for name, kind, sql in plan if plan is not None else build_plan():
        digest.update(f"\0{name}\0{kind}\0{sql}".encode())
    return digest.hexdigest()[:16]


# What `reviews status` and a `reviews sql` note say of marts that are not current.
STALE_MARTS = ("out of date (a run stopped before rebuilding them, or another version built them); the next "
               "`reviews run` or `reviews report` rebuilds them")


def mark_marts_stale(conn: duckdb.DuckDBPyConnection) -> None:
    """The data the marts are built from changed: they are stale until build_marts runs again."""
    conn.execute("delete from mart_builds")


def marts_current(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts were built by this version's SQL since the data last changed (False before any build,
    after a load or a parameter change whose rebuild did not happen, or when an older version built them)."""
    try:
        built = conn.execute("select fingerprint from mart_builds").fetchall()
    except duckdb.CatalogException:  # a warehouse not yet migrated to 013
        return False
    except duckdb.Error as exc:  # a damaged file: `reviews status` and `report` ended in a traceback (recovery QA)
        from warehouse.db import WarehouseError, first_line

        raise WarehouseError(f"the warehouse cannot be read: {first_line(exc)}") from None
    return built == [(fingerprint(),)]


def marts_fresh(database: Path) -> bool:
    """Whether the marts of the warehouse at `database` need no rebuild (see marts_current), read-only."""
    from warehouse.db import connect

    reader = connect(database, read_only=True)
    try:
        return marts_current(reader)
    finally:
        reader.close()


def refresh_stale_marts(database: Path) -> bool:
    """Rebuild the marts of the warehouse at `database` when this version's SQL did not build them (after an
    upgrade); True when it did. A busy warehouse raises WarehouseBusy, as any writer meeting it does."""
    from warehouse.db import open_writer

    if marts_fresh(database):
        return False
    with open_writer(database) as conn:
        if not marts_current(conn):  # another process may have rebuilt them meanwhile
            build_marts(conn)
    return True


def build_marts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create or replace every model; returns the row count of each mart table.

    Runs in one transaction so a reader never sees some marts rebuilt and others not, and a failing
    model leaves the previous marts in place.
    """
    check_params(conn)
    plan = build_plan()
    conn.execute("begin transaction")
    try:
        define_macros(conn)
        for name, kind, sql in plan:
            try:
                conn.execute(f"create or replace {kind} {name} as\n{sql}")
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot build {kind} {name}: {exc}") from exc
        _drop_retired_views(conn, {name for name, _, _ in plan})
        mark_marts_stale(conn)
        conn.execute("insert into mart_builds values (?, now()::timestamp)", [fingerprint(plan)])
        counts = {
            name: conn.execute(f"select count(*) from {name}").fetchone()[0]
            for name, kind, _ in plan
            if kind == "table"
        }
        conn.execute("commit")
    except duckdb.Error as exc:
        rollback(conn)
        raise WarehouseError(f"cannot build the marts, the previous ones are kept: {first_line(exc)}") from exc
    except BaseException:
        rollback(conn)
        raise
    return counts
