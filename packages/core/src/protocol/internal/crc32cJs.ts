/**
 * Pure-JS CRC-32C (Castagnoli), slicing-by-8. The fallback wherever no native accelerator loads.
 */
const POLY = 0x82f63b78

const TABLES: ReadonlyArray<Uint32Array> = (() => {
  const t: Array<Uint32Array> = []
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256))
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t[0]![n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0]![n]!
    for (let k = 1; k < 8; k++) {
      c = t[0]![c & 0xff]! ^ (c >>> 8)
      t[k]![n] = c >>> 0
    }
  }
  return t
})()

/** CRC-32C of `buf[start..end)`, continuing from `initial` (0 for a fresh checksum). */
export const crc32cJs = (buf: Uint8Array, start = 0, end = buf.length, initial = 0): number => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array
  ]
  let crc = ~initial >>> 0
  let i = start
  const end8 = end - ((end - start) & 7)
  while (i < end8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ crc
    crc =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[buf[i + 4]!]! ^
      t2[buf[i + 5]!]! ^
      t1[buf[i + 6]!]! ^
      t0[buf[i + 7]!]!
    i += 8
  }
  while (i < end) crc = t0[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
