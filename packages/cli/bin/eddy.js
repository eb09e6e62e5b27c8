#!/usr/bin/env node
// The `eddy` command: runs the TypeScript sources through tsx's loader. The big dependencies are loaded first,
// without the loader: its hooks slow down every module load, and a module loaded once is not loaded again.
await Promise.all([
  import("effect"),
  import("@effect/cli"),
  import("@effect/platform-node/NodeContext"),
  import("@effect/platform-node/NodeRuntime")
])
const { register } = await import("tsx/esm/api")
register()
await import("../src/main.ts")
