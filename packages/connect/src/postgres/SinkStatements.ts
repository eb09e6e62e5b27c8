/**
 * The statements of the Postgres sink as pure data (Kafka Connect JDBC's Postgres dialect): multi-row
 * `INSERT`, `INSERT ... ON CONFLICT (pk) DO UPDATE SET c = EXCLUDED.c` (or `DO NOTHING` when every column
 * is a key column), `UPDATE ... WHERE pk = ?`, multi-row `DELETE ... WHERE (pk) IN (...)`, and the
 * `CREATE TABLE` / `ALTER TABLE ... ADD` of `auto.create` / `auto.evolve`.
 */
import { quote } from "./PgConnection.js"
import type { Param } from "./PgTypes.js"

/** A table name as `schema.table` or `table`, quoted per part. */
export const quoteTable = (name: string): string => {
  const dot = name.indexOf(".")
  return dot < 0 ? quote(name) : `${quote(name.slice(0, dot))}.${quote(name.slice(dot + 1))}`
}

/** A statement and its parameters. */
export interface Statement {
  readonly text: string
  readonly params: ReadonlyArray<Param>
}

const placeholders = (rows: number, width: number, start = 1) =>
  Array.from(
    { length: rows },
    (_, r) => `(${Array.from({ length: width }, (_, c) => `$${start + r * width + c}`).join(", ")})`
  ).join(", ")

/** One INSERT (or upsert when `keys` is given) of `rows`, each with a value per column. */
export const insert = (
  table: string,
  columns: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<Param>>,
  upsertKeys: ReadonlyArray<string> | null
): Statement => {
  let text = `INSERT INTO ${quoteTable(table)} (${columns.map(quote).join(", ")}) VALUES ${placeholders(rows.length, columns.length)}`
  if (upsertKeys !== null) {
    const updates = columns.filter((c) => !upsertKeys.includes(c))
    text +=
      updates.length === 0
        ? ` ON CONFLICT (${upsertKeys.map(quote).join(", ")}) DO NOTHING`
        : ` ON CONFLICT (${upsertKeys.map(quote).join(", ")}) DO UPDATE SET ${updates
            .map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`)
            .join(", ")}`
  }
  return { text, params: rows.flat() }
}

/** An UPDATE of one row's non-key columns by its key. */
export const update = (
  table: string,
  keyColumns: ReadonlyArray<string>,
  columns: ReadonlyArray<string>,
  keys: ReadonlyArray<Param>,
  values: ReadonlyArray<Param>
): Statement => ({
  text: `UPDATE ${quoteTable(table)} SET ${columns.map((c, i) => `${quote(c)} = $${i + 1}`).join(", ")} WHERE ${keyColumns
    .map((c, i) => `${quote(c)} = $${columns.length + i + 1}`)
    .join(" AND ")}`,
  params: [...values, ...keys]
})

/** One DELETE of the rows with these keys. */
export const deleteByKeys = (
  table: string,
  keyColumns: ReadonlyArray<string>,
  keys: ReadonlyArray<ReadonlyArray<Param>>
): Statement => ({
  text: `DELETE FROM ${quoteTable(table)} WHERE (${keyColumns.map(quote).join(", ")}) IN (${placeholders(keys.length, keyColumns.length)})`,
  params: keys.flat()
})

/** A column to create or add. */
export interface ColumnDef {
  readonly name: string
  readonly sqlType: string
  readonly nullable: boolean
}

/** CREATE TABLE with the columns and primary key. */
export const createTable = (table: string, columns: ReadonlyArray<ColumnDef>, keys: ReadonlyArray<string>): string =>
  `CREATE TABLE ${quoteTable(table)} (\n${[
    ...columns.map((c) => `${quote(c.name)} ${c.sqlType}${c.nullable ? "" : " NOT NULL"}`),
    ...(keys.length > 0 ? [`PRIMARY KEY(${keys.map(quote).join(", ")})`] : [])
  ].join(",\n")})`

/** ALTER TABLE adding columns. */
export const addColumns = (table: string, columns: ReadonlyArray<ColumnDef>): string =>
  `ALTER TABLE ${quoteTable(table)} ${columns
    .map((c) => `ADD COLUMN ${quote(c.name)} ${c.sqlType}${c.nullable ? "" : " NOT NULL"}`)
    .join(", ")}`
