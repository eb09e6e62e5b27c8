/**
 * Layering and cycle rules (docs/architecture.md): protocol <- log <- broker; client uses protocol only;
 * streams and connect use only @eddy/core's public client API; nothing imports another package's internals.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no runtime import cycles (a cycle closed only by `import type` erases at compile time)",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } }
    },
    {
      name: "protocol-is-the-bottom",
      comment: "protocol knows nothing of log, broker or client",
      severity: "error",
      from: { path: "^packages/core/src/protocol/" },
      to: { path: "^packages/core/src/(log|broker|client)/" }
    },
    {
      name: "log-knows-no-network",
      comment: "log builds on protocol only",
      severity: "error",
      from: { path: "^packages/core/src/log/" },
      to: { path: "^packages/core/src/(broker|client)/" }
    },
    {
      name: "client-uses-protocol-only",
      severity: "error",
      from: { path: "^packages/core/src/client/" },
      to: { path: "^packages/core/src/(log|broker)/" }
    },
    {
      name: "broker-does-not-use-client",
      severity: "error",
      from: { path: "^packages/core/src/broker/" },
      to: { path: "^packages/core/src/client/" }
    },
    {
      name: "streams-connect-use-public-client",
      comment: "streams and connect use only the public client API of @eddy/core",
      severity: "error",
      from: { path: "^packages/(streams|connect)/src/" },
      to: { path: "^packages/core/src/((log|broker|protocol)/|.*/internal/)" }
    },
    {
      name: "no-cross-package-internals",
      severity: "error",
      from: { path: "^packages/([^/]+)/" },
      to: { path: "^packages/([^/]+)/src/.*/internal/", pathNot: "^packages/$1/" }
    },
    {
      name: "src-does-not-import-tests",
      severity: "error",
      from: { path: "^packages/[^/]+/src/" },
      to: { path: "^packages/[^/]+/(test|bench)/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(node_modules|/build/)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"]
    },
    combinedDependencies: true
  }
}
