import * as LogStorage from "../../src/log/LogStorage.js"
import { fileLayer } from "./helpers.js"
import { suite } from "./LogStorageSuite.js"

suite("file", (config = {}) => fileLayer(config))
suite("memory", (config = {}) => LogStorage.layerMemory(config))
