/**
 * @eddy/connect: a Kafka-Connect-compatible runtime (standalone and distributed workers, REST API, converters, transforms) and
 * connectors (file, HTTP, Postgres) over Eddy's public client. Import its modules by path
 * (`@eddy/connect/plugin/Connector`, `@eddy/connect/runtime/Worker`, ...); see docs/connect.md.
 */
export {}
