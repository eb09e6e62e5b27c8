/**
 * The plugin registry: connectors, converters, transforms and predicates by Kafka's class name and its
 * aliases (the simple class name, and for connectors the simple name without "Connector"), plus a user's
 * own connector loaded from a module path (`./my-connector.ts`, `/abs/path.js`, `@scope/pkg/Module`) that
 * exports `plugin` or a default plugin.
 */
import { Context, Effect, Layer, Schema } from "effect"
import * as Converters from "../converters/Converters.js"
import * as FileStreamSink from "../file/FileStreamSink.js"
import * as FileStreamSource from "../file/FileStreamSource.js"
import * as HttpSink from "../http/HttpSink.js"
import * as HttpSource from "../http/HttpSource.js"
import * as HttpWebhookSource from "../http/HttpWebhookSource.js"
import * as PostgresCdcSource from "../postgres/PostgresCdcSource.js"
import * as PostgresSink from "../postgres/PostgresSink.js"
import * as PostgresSource from "../postgres/PostgresSource.js"
import * as FieldTransforms from "../transforms/FieldTransforms.js"
import * as Predicates from "../transforms/Predicates.js"
import * as RecordTransforms from "../transforms/RecordTransforms.js"
import type { ConnectorPlugin } from "./Connector.js"
import type { PredicatePlugin, TransformationPlugin } from "./Transformation.js"

/** No plugin of that name. */
export class PluginNotFound extends Schema.TaggedError<PluginNotFound>()("PluginNotFound", {
  name: Schema.String,
  kind: Schema.String,
  message: Schema.String
}) {}

/** A plugin as `GET /connector-plugins` lists it. */
export interface PluginInfo {
  readonly class: string
  readonly type: "source" | "sink" | "converter" | "header_converter" | "transformation" | "predicate"
  readonly version: string
}

/** The plugins a worker knows. */
export interface PluginsShape {
  readonly connector: (name: string) => Effect.Effect<ConnectorPlugin, PluginNotFound>
  readonly transformation: (name: string) => Effect.Effect<TransformationPlugin, PluginNotFound>
  readonly predicate: (name: string) => Effect.Effect<PredicatePlugin, PluginNotFound>
  /** Every plugin, connectors first (Kafka's listing). */
  readonly list: (connectorsOnly: boolean) => ReadonlyArray<PluginInfo>
}

/** The plugin registry service. */
export class Plugins extends Context.Tag("@eddy/connect/plugin/Plugins")<Plugins, PluginsShape>() {}

/** The aliases of a class name: itself, its simple name, and the simple name without `suffix`. */
export const aliasesOf = (className: string, suffix: string): ReadonlyArray<string> => {
  const simple = className.slice(className.lastIndexOf(".") + 1)
  return simple.endsWith(suffix) && simple !== suffix
    ? [className, simple, simple.slice(0, -suffix.length)]
    : [className, simple]
}

const isModulePath = (name: string) =>
  /^(\.{1,2}\/|\/|file:)/.test(name) || /\.(m?[jt]s)$/.test(name) || (name.includes("/") && !name.includes(" "))

const loadModule = (name: string) =>
  Effect.tryPromise({
    try: async () => {
      const { pathToFileURL } = await import("node:url")
      const { resolve } = await import("node:path")
      const specifier = /^(\.{1,2}\/|\/)/.test(name) ? pathToFileURL(resolve(name)).href : name
      const mod = (await import(specifier)) as { plugin?: ConnectorPlugin; default?: ConnectorPlugin }
      const plugin = mod.plugin ?? mod.default
      if (!plugin || (plugin._tag !== "source" && plugin._tag !== "sink"))
        throw new Error(`${name} exports no connector plugin (export const plugin = Connector.source(...))`)
      return plugin
    },
    catch: (e) =>
      new PluginNotFound({
        name,
        kind: "connector",
        message: `Failed to load connector module ${name}: ${e instanceof Error ? e.message : String(e)}`
      })
  })

/** The built-in connectors. */
export const builtinConnectors: ReadonlyArray<ConnectorPlugin> = [
  FileStreamSource.plugin,
  FileStreamSink.plugin,
  HttpSource.plugin,
  HttpWebhookSource.plugin,
  HttpSink.plugin,
  PostgresSource.plugin,
  PostgresSink.plugin,
  PostgresCdcSource.plugin
]

/** The built-in transforms (Kafka's, with their $Key/$Value variants). */
export const builtinTransformations: ReadonlyArray<TransformationPlugin> = [
  ...FieldTransforms.plugins,
  ...RecordTransforms.plugins
]

/** The built-in predicates. */
export const builtinPredicates: ReadonlyArray<PredicatePlugin> = Predicates.plugins

/** Builds a registry from plugin lists. */
export const make = (plugins: {
  readonly connectors: ReadonlyArray<ConnectorPlugin>
  readonly transformations?: ReadonlyArray<TransformationPlugin>
  readonly predicates?: ReadonlyArray<PredicatePlugin>
}): PluginsShape => {
  const connectors = new Map<string, ConnectorPlugin>()
  for (const p of plugins.connectors)
    for (const a of [...aliasesOf(p.className, "Connector"), ...(p.aliases ?? [])]) connectors.set(a, p)
  const transformations = new Map<string, TransformationPlugin>()
  for (const p of plugins.transformations ?? []) for (const a of aliasesOf(p.className, "")) transformations.set(a, p)
  const predicates = new Map<string, PredicatePlugin>()
  for (const p of plugins.predicates ?? []) for (const a of aliasesOf(p.className, "")) predicates.set(a, p)
  const loaded = new Map<string, ConnectorPlugin>()
  const notFound = (kind: string, name: string) =>
    new PluginNotFound({
      name,
      kind,
      message: `Failed to find any class that implements ${kind} and which name matches ${name}`
    })

  return {
    connector: (name) => {
      const trimmed = name.trim()
      const known = connectors.get(trimmed) ?? loaded.get(trimmed)
      if (known) return Effect.succeed(known)
      if (!isModulePath(trimmed)) return Effect.fail(notFound("Connector", trimmed))
      return Effect.tap(loadModule(trimmed), (p) => Effect.sync(() => loaded.set(trimmed, p)))
    },
    transformation: (name) => {
      const p = transformations.get(name.trim())
      return p ? Effect.succeed(p) : Effect.fail(notFound("Transformation", name.trim()))
    },
    predicate: (name) => {
      const p = predicates.get(name.trim())
      return p ? Effect.succeed(p) : Effect.fail(notFound("Predicate", name.trim()))
    },
    list: (connectorsOnly) => {
      const out: Array<PluginInfo> = plugins.connectors.map((p) => ({
        class: p.className,
        type: p._tag,
        version: p.version
      }))
      if (connectorsOnly) return out
      for (const c of Converters.builtins) {
        const instance = c.make({})
        if (instance.toConnectData) out.push({ class: c.className, type: "converter", version: "0.1.0" })
        if (instance.toConnectHeader) out.push({ class: c.className, type: "header_converter", version: "0.1.0" })
      }
      for (const t of plugins.transformations ?? [])
        out.push({ class: t.className, type: "transformation", version: t.version })
      for (const p of plugins.predicates ?? []) out.push({ class: p.className, type: "predicate", version: p.version })
      return out
    }
  }
}

/** The registry of the built-in plugins plus `extra` connectors. */
export const layer = (extra: ReadonlyArray<ConnectorPlugin> = []) =>
  Layer.succeed(
    Plugins,
    make({
      connectors: [...builtinConnectors, ...extra],
      transformations: builtinTransformations,
      predicates: builtinPredicates
    })
  )
