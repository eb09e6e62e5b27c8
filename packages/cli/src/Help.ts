/**
 * The help text of the `eddy` commands, rendered from @effect/cli's `HelpDoc` of each command: a
 * `Usage: eddy <command> ...` line, the description, then arguments, options (each with its default) and
 * subcommands in two columns wrapped to the terminal width. Headings are bold only when colour is on.
 */
import { CliConfig, Command, type HelpDoc } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"

/** A command of the tree and its subcommands, by name. */
export interface CommandNode {
  readonly name: string
  // biome-ignore lint/suspicious/noExplicitAny: a command of any config, environment, error and output
  readonly command: Command.Command<any, any, any, any>
  readonly children: ReadonlyArray<CommandNode>
}

/** How to render: the line width and whether to use ANSI colour. */
export interface Style {
  readonly width: number
  readonly colour: boolean
}

/** Colour only on a terminal, and never when `NO_COLOR` is set to anything non-empty (no-color.org). */
export const useColour = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY === true && (env.NO_COLOR ?? "") === ""

const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g")

/** The width to wrap help to: the terminal's, else `COLUMNS`, else 80 (at least 40). */
export const terminalWidth = (stream: { readonly columns?: number }, env: NodeJS.ProcessEnv = process.env): number =>
  Math.max(40, stream.columns ?? (Number(env.COLUMNS ?? "") || 80))

/** Removes ANSI escape sequences. */
export const stripAnsi = (text: string): string => text.replace(ansi, "")

const spanText = (s: Span): string => {
  switch (s._tag) {
    case "Text":
    case "URI":
      return s.value
    case "Sequence":
      return spanText(s.left) + spanText(s.right)
    default:
      return spanText(s.value)
  }
}

/** The paragraphs of a HelpDoc, in order, each as one line of plain text. */
export const docText = (doc: HelpDoc.HelpDoc): Array<string> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
    case "Paragraph":
      return [spanText(doc.value)]
    case "DescriptionList":
      return doc.definitions.flatMap(([span, block]) => [spanText(span), ...docText(block)])
    case "Enumeration":
      return doc.elements.flatMap(docText)
    case "Sequence":
      return [...docText(doc.left), ...docText(doc.right)]
  }
}

interface Section {
  readonly title: string
  readonly paragraphs: Array<string>
  readonly entries: Array<readonly [string, Array<string>]>
}

const sections = (doc: HelpDoc.HelpDoc): Array<Section> => {
  const out: Array<Section> = [{ title: "", paragraphs: [], entries: [] }]
  const walk = (d: HelpDoc.HelpDoc): void => {
    const current = out[out.length - 1]!
    switch (d._tag) {
      case "Header":
        out.push({ title: spanText(d.value), paragraphs: [], entries: [] })
        return
      case "Paragraph":
        current.paragraphs.push(spanText(d.value))
        return
      case "DescriptionList":
        for (const [span, block] of d.definitions) current.entries.push([spanText(span), docText(block)])
        return
      case "Enumeration":
        for (const e of d.elements) current.paragraphs.push(...docText(e))
        return
      case "Sequence":
        walk(d.left)
        walk(d.right)
        return
      case "Empty":
        return
    }
  }
  walk(doc)
  return out
}

// what @effect/cli says of every option of a type; the option's own description says more
const boilerplate =
  /^(A user-defined piece of text\.|An integer\.|A true or false value\.|A floating point number\.|This setting is optional\.|This option may be repeated zero or more times\.|One of the following: .*|An? (existing )?(file|directory|path).*|This argument is optional - use the default\?)$/

/** Splits `text` into lines of at most `width` columns (a longer word gets a line of its own). */
export const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line === "") line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== "") lines.push(line)
  return lines
}

/** Two columns: `names` then `description`, wrapped; a long name puts its description on the next line. */
const columns = (rows: ReadonlyArray<readonly [string, string]>, style: Style, nameWidth: number): Array<string> => {
  const indent = 2
  const descColumn = indent + nameWidth + 2
  const descWidth = Math.max(20, style.width - descColumn)
  const out: Array<string> = []
  for (const [name, description] of rows) {
    const lines = wrap(description, descWidth)
    const head = " ".repeat(indent) + name
    if (name.length > nameWidth) {
      out.push(head)
      for (const l of lines) out.push(" ".repeat(descColumn) + l)
    } else {
      out.push(head.padEnd(descColumn) + (lines[0] ?? ""))
      for (const l of lines.slice(1)) out.push(" ".repeat(descColumn) + l)
    }
  }
  return out
}

const descriptionOf = (node: CommandNode): string =>
  sections(Command.getHelp(node.command, config))
    .find((s) => s.title === "DESCRIPTION")
    ?.paragraphs.join(" ") ?? ""

const config = CliConfig.make({ showBuiltIns: false })

/** The global options, shown by every command (`--log-level` only where the command has none of its own). */
const globalRows = (hasLogLevel: boolean): Array<readonly [string, string]> => [
  ["-h, --help", "Show this help"],
  ["--version", "Print the version of eddy"],
  ...(hasLogLevel
    ? []
    : [
        [
          "--log-level level",
          "Show the clients' own log lines from this level: all, trace, debug, info, warning, error, fatal or none (default: none; a failure is printed as one error line)"
        ] as const
      ])
]

/** The help text of the command at `path` (names from the root, e.g. `["topics", "create"]`). */
export const render = (root: CommandNode, path: ReadonlyArray<string>, style: Style): string => {
  let node = root
  const words = ["eddy"]
  for (const name of path) {
    const child = node.children.find((c) => c.name === name)
    if (child === undefined) break
    node = child
    words.push(name)
  }
  const heading = (t: string) => (style.colour ? `\u001b[1m${t}\u001b[0m` : t)
  const doc = sections(Command.getHelp(node.command, config))
  const args = doc.find((s) => s.title === "ARGUMENTS")?.entries ?? []
  const options = doc.find((s) => s.title === "OPTIONS")?.entries ?? []
  const argName = ([name, text]: readonly [string, Array<string>]) =>
    text.some((t) => t.startsWith("This argument is optional")) ? `[${name}]` : name
  const usage =
    node.children.length > 0
      ? `${words.join(" ")} <command> [options]`
      : [...words, ...(options.length > 0 ? ["[options]"] : []), ...args.map(argName)].join(" ")
  const out: Array<string> = [`${heading("Usage:")} ${usage}`, ""]
  const description = doc.find((s) => s.title === "DESCRIPTION")?.paragraphs.join(" ") ?? ""
  if (description !== "") out.push(...wrap(description, style.width), "")
  const describe = (entries: ReadonlyArray<readonly [string, Array<string>]>) =>
    entries.map(([name, text]) => [name, text.filter((t) => !boilerplate.test(t)).join(" ")] as const)
  const hasLogLevel = options.some(([name]) => name.startsWith("--log-level"))
  const blocks: Array<readonly [string, ReadonlyArray<readonly [string, string]>]> = [
    ["Commands:", node.children.map((c) => [c.name, descriptionOf(c)] as const)],
    ["Arguments:", describe(args)],
    ["Options:", describe(options)],
    ["Global options:", globalRows(hasLogLevel)]
  ]
  // one name column for every block, at most 30 wide (a longer name puts its description on the next line)
  const nameWidth = Math.min(30, Math.max(0, ...blocks.flatMap(([, rows]) => rows.map(([n]) => n.length))))
  const shown = blocks.filter(([, rows]) => rows.length > 0)
  shown.forEach(([title, rows], i) => {
    out.push(heading(title), ...columns(rows, style, nameWidth))
    if (i < shown.length - 1) out.push("")
  })
  if (node.children.length > 0) {
    out.push("", ...wrap(`Run \`${words.join(" ")} <command> --help\` for the options of a command.`, style.width))
  }
  return `${out.join("\n")}\n`
}

/**
 * When `args` ask for help (`-h`/`--help` anywhere, or a command that has subcommands given none), the path of
 * the command to describe; otherwise undefined.
 */
export const helpPath = (root: CommandNode, args: ReadonlyArray<string>): Array<string> | undefined => {
  const path: Array<string> = []
  let node = root
  for (const a of args) {
    if (a.startsWith("-")) continue
    const child = node.children.find((c) => c.name === a)
    if (child === undefined) break
    path.push(a)
    node = child
  }
  if (args.includes("--help") || args.includes("-h")) return path
  if (node.children.length > 0 && !args.includes("--version") && !args.some((a) => a.startsWith("--completions")))
    return args.every((a) => a.startsWith("-") || path.includes(a)) ? path : undefined
  return undefined
}
