import { defineProject } from "vitest/config"

// tests import @eddy/* packages from their TypeScript sources (the `@eddy/source` export condition), so
// `vitest` needs no build of the libraries; the `eddy` command itself is spawned from its built files
const sourceConditions = ["@eddy/source", "module", "node", "development|production"]

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: "streams",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
