// The subset of onnx.proto (ONNX IR) we need to write and read our models,
// parsed by protobufjs at load time. Field numbers are those of
// https://github.com/onnx/onnx/blob/main/onnx/onnx.proto. Repeated numeric
// fields are marked packed, and resolveAll() makes protobufjs honour that.
import protobuf from 'protobufjs';

const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7 [packed = true];
  repeated int64 ints = 8 [packed = true];
  repeated bytes strings = 9;
  optional string doc_string = 13;
  optional AttributeType type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; optional string doc_string = 3; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3;
  optional string op_type = 4; optional string domain = 7; repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2; optional string producer_version = 3; optional string domain = 4;
  optional int64 model_version = 5; optional string doc_string = 6; optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  optional string doc_string = 10; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message TensorProto {
  enum DataType { UNDEFINED = 0; FLOAT = 1; INT64 = 7; DOUBLE = 11; }
  repeated int64 dims = 1 [packed = true];
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  optional Tensor tensor_type = 1;
}
`;

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
root.resolveAll();
const ModelProto = root.lookupType('onnx.ModelProto');

export const IR_VERSION = 8; // ORT 1.30 accepts IR <= 13; 8 is enough for opset 13/ml 3.
export const FLOAT = 1;

export type Attr =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; floats: ArrayLike<number> }
  | { name: string; ints: ArrayLike<number> }
  | { name: string; strings: string[] };

export interface NodeSpec {
  op: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Attr[];
}

export interface TensorSpec {
  name: string;
  dims: number[];
  data: ArrayLike<number>; // float32
}

export interface ModelSpec {
  graphName: string;
  docString: string;
  opsets: { domain: string; version: number }[];
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  metadata: Record<string, string>;
  modelVersion: number;
}

function attrProto(a: Attr): Record<string, unknown> {
  if ('f' in a) return { name: a.name, type: 1, f: a.f };
  if ('i' in a) return { name: a.name, type: 2, i: a.i };
  if ('s' in a) return { name: a.name, type: 3, s: Buffer.from(a.s, 'utf8') };
  if ('floats' in a) return { name: a.name, type: 6, floats: Array.from(a.floats) };
  if ('ints' in a) return { name: a.name, type: 7, ints: Array.from(a.ints) };
  return { name: a.name, type: 8, strings: a.strings.map((s) => Buffer.from(s, 'utf8')) };
}

function valueInfo(v: { name: string; dims: (number | string)[] }): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** Serialize a model. Same spec, same bytes (no timestamps, sorted metadata). */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const msg = {
    ir_version: IR_VERSION,
    opset_import: spec.opsets,
    producer_name: 'optifiber-train',
    producer_version: '1',
    domain: 'io.optifiber',
    model_version: spec.modelVersion,
    doc_string: spec.docString,
    graph: {
      name: spec.graphName,
      node: spec.nodes.map((n, k) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${k}`,
        op_type: n.op,
        domain: n.domain ?? '',
        attribute: (n.attrs ?? []).map(attrProto),
      })),
      initializer: spec.initializers.map((t) => ({
        name: t.name,
        dims: t.dims,
        data_type: FLOAT,
        raw_data: Buffer.from(Float32Array.from(t.data).buffer),
      })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
    metadata_props: Object.keys(spec.metadata)
      .sort()
      .map((key) => ({ key, value: spec.metadata[key] })),
  };
  const err = ModelProto.verify(msg);
  if (err) throw new Error(`onnx model: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(msg)).finish();
}

export interface DecodedAttr {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  floats?: number[];
  ints?: number[];
  strings?: string[];
}
export interface DecodedNode {
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, DecodedAttr>;
}
export interface DecodedModel {
  opsets: { domain: string; version: number }[];
  nodes: DecodedNode[];
  initializers: Map<string, { dims: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
  inputs: string[];
  outputs: string[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v)));

/** Parse the parts of an ONNX file our reference implementations need. */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: String, bytes: Buffer, defaults: false }) as {
    opset_import?: { domain?: string; version?: string }[];
    graph?: {
      node?: { op_type?: string; domain?: string; input?: string[]; output?: string[]; attribute?: Record<string, unknown>[] }[];
      initializer?: { name?: string; dims?: string[]; raw_data?: Buffer; float_data?: number[] }[];
      input?: { name?: string }[];
      output?: { name?: string }[];
    };
    metadata_props?: { key?: string; value?: string }[];
  };
  if (!m.graph) throw new Error('onnx model has no graph');
  const nodes: DecodedNode[] = (m.graph.node ?? []).map((n) => {
    const attrs = new Map<string, DecodedAttr>();
    for (const a of n.attribute ?? []) {
      const d: DecodedAttr = { name: String(a.name) };
      if (a.f !== undefined) d.f = a.f as number;
      if (a.i !== undefined) d.i = num(a.i);
      if (a.s !== undefined) d.s = (a.s as Buffer).toString('utf8');
      if (a.floats !== undefined) d.floats = a.floats as number[];
      if (a.ints !== undefined) d.ints = (a.ints as unknown[]).map(num);
      if (a.strings !== undefined) d.strings = (a.strings as Buffer[]).map((b) => b.toString('utf8'));
      attrs.set(d.name, d);
    }
    return { op: n.op_type ?? '', domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attrs };
  });
  const initializers = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of m.graph.initializer ?? []) {
    let data: Float32Array;
    if (t.raw_data && t.raw_data.length) {
      const copy = Uint8Array.from(t.raw_data);
      data = new Float32Array(copy.buffer, 0, copy.length / 4);
    } else data = Float32Array.from(t.float_data ?? []);
    initializers.set(String(t.name), { dims: (t.dims ?? []).map(num), data });
  }
  const metadata: Record<string, string> = {};
  for (const p of m.metadata_props ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    opsets: (m.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: num(o.version) })),
    nodes,
    initializers,
    metadata,
    inputs: (m.graph.input ?? []).map((v) => String(v.name)),
    outputs: (m.graph.output ?? []).map((v) => String(v.name)),
  };
}
