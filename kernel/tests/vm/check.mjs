// The harness of the in-VM Node checks (reader-check.mjs, exporter-check.mjs):
// one "RESULT PASS <case>" or "RESULT FAIL <case>: <reason>" line per case,
// the lines run-qemu.mjs parses from the serial console.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Runs one case; a throw is its failure, reported with the first two lines of its message. */
export async function check(name, fn) {
  try {
    await fn();
    console.log(`RESULT PASS ${name}`);
  } catch (e) {
    console.log(`RESULT FAIL ${name}: ${String(e?.message ?? e).split('\n').slice(0, 2).join(' | ')}`);
  }
}
