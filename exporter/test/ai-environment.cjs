// Jest environment for the AI tests: onnxruntime-node's native addon returns
// typed arrays of the main realm, and onnxruntime-common checks them with
// `instanceof` against the test sandbox's constructors. Sharing the main
// realm's typed-array constructors with the sandbox makes the check pass.
const { TestEnvironment } = require('jest-environment-node');

class AiEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer'])
      this.global[name] = globalThis[name];
  }
}
module.exports = AiEnvironment;
