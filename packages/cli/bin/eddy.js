#!/usr/bin/env node
// The `eddy` command: runs the compiled JavaScript in ../dist (built by `npm run build`, which `npm ci` and
// `npm start` run in this repository; published packages ship it).
try {
  await import("../dist/main.js")
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("/dist/main.js")) {
    console.error("error: eddy is not built (no dist/main.js); run `npm run build` in the repository")
    process.exit(2)
  }
  throw error
}
