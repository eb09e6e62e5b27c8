/**
 * Looks up the generated encode/decode functions of a schema, so the schema-driven tests can run over all of them.
 */
import type { MessageSpec } from "../../scripts/protocol-schema.js"
import { apiSpec } from "../../src/protocol/generated/ApiKey.js"
import * as Header from "../../src/protocol/generated/Header.js"
import { Data, Records } from "../../src/protocol/generated/index.js"
import type { Reader } from "../../src/protocol/Reader.js"
import type { Writer } from "../../src/protocol/Writer.js"

export interface Codec {
  readonly name: string
  readonly encode: (w: Writer, v: unknown, version: number) => void
  readonly decode: (r: Reader, version: number) => unknown
}

type Fn = (...args: Array<never>) => unknown

const fromModule = (mod: Record<string, unknown>, name: string): Codec => {
  const encode = mod[`encode${name}`] as Fn | undefined
  const decode = mod[`decode${name}`] as Fn | undefined
  if (typeof encode !== "function" || typeof decode !== "function") throw new Error(`no codec for ${name}`)
  return { name, encode: encode as Codec["encode"], decode: decode as Codec["decode"] }
}

/** The generated codec of a schema (request, response, header, or data/record struct). */
export const codecOf = (m: MessageSpec, kind: "messages" | "records"): Codec => {
  if (m.type === "request" || m.type === "response") {
    const s = apiSpec(m.apiKey!)
    if (s === undefined) throw new Error(`no api ${m.apiKey}`)
    return m.type === "request"
      ? { name: m.name, encode: s.encodeRequest, decode: s.decodeRequest }
      : { name: m.name, encode: s.encodeResponse, decode: s.decodeResponse }
  }
  if (m.type === "header") return fromModule(Header as unknown as Record<string, unknown>, m.name)
  const ns = (kind === "records" ? Records : Data) as unknown as Record<string, Record<string, unknown>>
  const mod = ns[m.name]
  if (mod === undefined) throw new Error(`no module for ${m.name}`)
  return fromModule(mod, m.name)
}
