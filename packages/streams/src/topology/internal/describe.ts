/**
 * Kafka's text form of a topology (`TopologyDescription.toString`): sub-topologies and global stores by id,
 * each node with its topics or stores, its successors (`-->`) and predecessors (`<--`). Nodes print in the
 * order Kafka sorts them: larger sub-tree first (a node's size is one plus its successors' sizes), then by
 * name; successor and predecessor lists use the same order.
 */
import type { Node, Topology } from "../Topology.js"

const sizes = (nodes: ReadonlyMap<string, Node>): Map<string, number> => {
  const memo = new Map<string, number>()
  const size = (name: string): number => {
    const known = memo.get(name)
    if (known !== undefined) return known
    const node = nodes.get(name)!
    const children = node.kind === "sink" ? [] : node.children
    let n = 1
    for (const c of children) n += size(c)
    memo.set(name, n)
    return n
  }
  for (const name of nodes.keys()) size(name)
  return memo
}

const list = (names: ReadonlyArray<string>): string => `[${names.join(", ")}]`

export const describe = (topology: Topology<unknown>): string => {
  const size = sizes(topology.nodes)
  const order = (a: string, b: string) => size.get(b)! - size.get(a)! || (a < b ? -1 : a > b ? 1 : 0)
  const names = (ns: ReadonlyArray<string>) => (ns.length === 0 ? "none" : [...ns].sort(order).join(", "))
  const line = (node: Node): string => {
    switch (node.kind) {
      case "source":
        return `Source: ${node.name} (topics: ${node.pattern?.source ?? list(node.topics)})\n      --> ${names(node.children)}`
      case "processor":
        return `Processor: ${node.name} (stores: ${list(node.stores)})\n      --> ${names(node.children)}\n      <-- ${names(node.parents)}`
      case "sink": {
        const target =
          typeof node.topic === "string" ? `topic: ${node.topic}` : `extractor class: ${node.topic.name || "anonymous"}`
        return `Sink: ${node.name} (${target})\n      <-- ${names(node.parents)}`
      }
    }
  }
  const blocks: Array<{ id: number; text: string }> = []
  for (const s of topology.subtopologies) {
    const nodes = [...s.nodes].sort(order).map((n) => `    ${line(topology.nodes.get(n)!)}\n`)
    blocks.push({ id: s.id, text: `Sub-topology: ${s.id}\n${nodes.join("")}\n` })
  }
  for (const g of topology.globalStores) {
    const source = line(topology.nodes.get(g.source)!)
    const processor = line(topology.nodes.get(g.processor)!)
    blocks.push({
      id: g.id,
      text: `Sub-topology: ${g.id} for global store (will not generate tasks)\n    ${source}\n    ${processor}\n\n`
    })
  }
  blocks.sort((a, b) => a.id - b.id)
  return `Topologies:\n ${blocks.map((b) => `  ${b.text}`).join("")}`
}
