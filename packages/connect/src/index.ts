/**
 * @eddy/connect: Kafka-Connect-like connectors and workers over Eddy's public client. The runtime lands
 * with the connect issue of the roadmap (docs/architecture.md); this package holds its place in the workspace.
 */
export {}
