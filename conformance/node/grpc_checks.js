#!/usr/bin/env node
// Node @grpc/grpc-js client checks against a running berth server: the core calls a Node client
// makes (health, metadata, inference with typed and raw contents, error codes), with the
// client-side protos of conformance/protos loaded by @grpc/proto-loader.
//
//   node grpc_checks.js --target HOST:PORT --protos DIR --models DIR --out RESULT.json
//
// --models: one folder per test model with cases.json. Writes the same result format as the
// Python checks ({suite, complete, passed, failed, checks: [{name, ok, detail, ms}]}); exit code
// 0 when every check passed.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const TIMEOUT_MS = 20000;
const SERVICE = 'inference.GRPCInferenceService';

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['target', 'protos', 'models', 'out']) {
    if (!out[k]) throw new Error('missing --' + k);
  }
  return out;
}

// ------------------------------------------------------------------ tensors

// JSON.parse rounds integers above 2^53; cases.json holds uint64/int64 values that large, so every
// integer of 16 or more digits is read as a string and kept exact (as BigInt where it is used)
function parseExact(text) {
  return JSON.parse(text.replace(/([\[,:]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

const DTYPES = {
  bool: 'BOOL', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64',
  int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  float16: 'FP16', float32: 'FP32', float64: 'FP64', string: 'BYTES',
};
const SIZE = { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4,
  UINT64: 8, INT64: 8, FP64: 8 };
const TYPED = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents',
  INT64: 'int64_contents', UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents',
  UINT64: 'uint64_contents', FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents',
};

function fromCase(t) {
  const datatype = DTYPES[t.dtype];
  let data = t.data;
  if (datatype === 'INT64' || datatype === 'UINT64') data = data.map((x) => BigInt(x));
  else if (datatype === 'BYTES') data = data.map((x) => Buffer.from(x, 'utf8'));
  else if (datatype.startsWith('FP')) data = data.map((x) => (typeof x === 'string' ? Number(x) : x));
  return { datatype, shape: t.shape, data };
}

// IEEE 754 binary16 <-> number, round to nearest even (FP16 has no typed form: raw only)
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(value) {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (half & 1))) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half += 1;
  return sign | half;
}
function fromHalf(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function toRaw(t) {
  if (t.datatype === 'BYTES') {
    return Buffer.concat(t.data.flatMap((b) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return [len, b];
    }));
  }
  const size = SIZE[t.datatype];
  const buf = Buffer.alloc(size * t.data.length);
  t.data.forEach((v, i) => {
    const o = i * size;
    switch (t.datatype) {
      case 'BOOL': buf.writeUInt8(v ? 1 : 0, o); break;
      case 'UINT8': buf.writeUInt8(v, o); break;
      case 'INT8': buf.writeInt8(v, o); break;
      case 'UINT16': buf.writeUInt16LE(v, o); break;
      case 'INT16': buf.writeInt16LE(v, o); break;
      case 'FP16': buf.writeUInt16LE(toHalf(v), o); break;
      case 'UINT32': buf.writeUInt32LE(v, o); break;
      case 'INT32': buf.writeInt32LE(v, o); break;
      case 'FP32': buf.writeFloatLE(v, o); break;
      case 'UINT64': buf.writeBigUInt64LE(v, o); break;
      case 'INT64': buf.writeBigInt64LE(v, o); break;
      case 'FP64': buf.writeDoubleLE(v, o); break;
      default: throw new Error('no raw form for ' + t.datatype);
    }
  });
  return buf;
}

function fromRaw(buf, datatype, count) {
  if (datatype === 'BYTES') {
    const out = [];
    let pos = 0;
    while (pos < buf.length) {
      const n = buf.readUInt32LE(pos);
      out.push(buf.subarray(pos + 4, pos + 4 + n));
      pos += 4 + n;
    }
    return out;
  }
  const size = SIZE[datatype];
  if (buf.length !== size * count) throw new Error(`${buf.length} raw bytes for ${count} ${datatype} elements`);
  const out = [];
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (datatype) {
      case 'BOOL': out.push(buf.readUInt8(o) !== 0); break;
      case 'UINT8': out.push(buf.readUInt8(o)); break;
      case 'INT8': out.push(buf.readInt8(o)); break;
      case 'UINT16': out.push(buf.readUInt16LE(o)); break;
      case 'INT16': out.push(buf.readInt16LE(o)); break;
      case 'FP16': out.push(fromHalf(buf.readUInt16LE(o))); break;
      case 'UINT32': out.push(buf.readUInt32LE(o)); break;
      case 'INT32': out.push(buf.readInt32LE(o)); break;
      case 'FP32': out.push(buf.readFloatLE(o)); break;
      case 'UINT64': out.push(buf.readBigUInt64LE(o)); break;
      case 'INT64': out.push(buf.readBigInt64LE(o)); break;
      case 'FP64': out.push(buf.readDoubleLE(o)); break;
      default: throw new Error('no raw form for ' + datatype);
    }
  }
  return out;
}

function fromTyped(contents, datatype) {
  const values = contents[TYPED[datatype]] || [];
  if (datatype === 'INT64' || datatype === 'UINT64') return values.map((v) => BigInt(v));
  if (datatype === 'BYTES') return values.map((v) => Buffer.from(v));
  return values;
}

function typedContents(t) {
  const field = TYPED[t.datatype];
  if (!field) throw new Error(t.datatype + ' has no typed contents');
  const values = (t.datatype === 'INT64' || t.datatype === 'UINT64') ? t.data.map((v) => v.toString()) : t.data;
  return { [field]: values };
}

function compare(want, got) {
  if (want.datatype !== got.datatype) return `datatype ${got.datatype}, expected ${want.datatype}`;
  if (JSON.stringify(want.shape.map(Number)) !== JSON.stringify(got.shape.map(Number))) {
    return `shape ${JSON.stringify(got.shape)}, expected ${JSON.stringify(want.shape)}`;
  }
  if (want.data.length !== got.data.length) return `${got.data.length} elements, expected ${want.data.length}`;
  for (let i = 0; i < want.data.length; i++) {
    const e = want.data[i];
    const a = got.data[i];
    let same;
    if (Buffer.isBuffer(e)) same = Buffer.isBuffer(a) && e.equals(a);
    else if (typeof e === 'bigint') same = BigInt(a) === e;
    else if (typeof e === 'number' && want.datatype.startsWith('FP')) {
      same = (Number.isNaN(e) && Number.isNaN(a)) || e === a || Math.abs(a - e) <= 1e-6 + 1e-5 * Math.abs(e);
    } else same = a === e;
    if (!same) return `element ${i} is ${a}, expected ${e}`;
  }
  return null;
}

// ------------------------------------------------------------------ checks

class Report {
  constructor(suite) {
    this.suite = suite;
    this.checks = [];
    this.complete = false;
  }

  async check(name, fn) {
    const start = process.hrtime.bigint();
    let entry;
    try {
      const detail = await fn();
      entry = { name, ok: true, detail: detail === undefined ? '' : String(detail) };
    } catch (e) {
      const detail = e.code !== undefined && e.details !== undefined
        ? `${grpc.status[e.code]}: ${e.details}` : String(e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n') : e);
      entry = { name, ok: false, detail };
    }
    entry.ms = Number(process.hrtime.bigint() - start) / 1e6;
    this.checks.push(entry);
    console.log(`${entry.ok ? 'PASS' : 'FAIL'} ${name} ${entry.detail.split('\n')[0]}`);
  }

  write(file) {
    const failed = this.checks.filter((c) => !c.ok).length;
    fs.writeFileSync(file, JSON.stringify({
      suite: this.suite, complete: this.complete, passed: this.checks.length - failed, failed, checks: this.checks,
    }, null, 2));
    console.log(`${this.suite}: ${this.checks.length - failed} passed, ${failed} failed`);
    return failed;
  }
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + TIMEOUT_MS }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function expectCode(promise, code) {
  try {
    await promise;
  } catch (e) {
    expect(e.code === code, `status ${grpc.status[e.code]} (${JSON.stringify(e.details)}), expected ${grpc.status[code]}`);
    return `${grpc.status[e.code]}: ${e.details}`;
  }
  throw new Error(`the call succeeded; ${grpc.status[code]} was expected`);
}

function loadCases(dir) {
  const models = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'cases.json');
    if (!fs.existsSync(file)) continue;
    models[name] = parseExact(fs.readFileSync(file, 'utf8')).map((c) => ({
      inputs: Object.entries(c.inputs).map(([n, t]) => ({ name: n, ...fromCase(t) })),
      outputs: Object.fromEntries(Object.entries(c.outputs).map(([n, t]) => [n, fromCase(t)])),
    }));
  }
  return models;
}

function inferRequest(model, inputs, raw, id) {
  return {
    model_name: model,
    id: id || '',
    inputs: inputs.map((t) => ({
      name: t.name, datatype: t.datatype, shape: t.shape,
      ...(raw ? {} : { contents: typedContents(t) }),
    })),
    raw_input_contents: raw ? inputs.map(toRaw) : [],
  };
}

function checkOutputs(resp, expected) {
  const raw = resp.raw_output_contents || [];
  const names = resp.outputs.map((o) => o.name).sort();
  expect(JSON.stringify(names) === JSON.stringify(Object.keys(expected).sort()),
    `outputs ${names}, expected ${Object.keys(expected).sort()}`);
  resp.outputs.forEach((o, i) => {
    const shape = o.shape.map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = raw.length ? fromRaw(raw[i], o.datatype, count) : fromTyped(o.contents || {}, o.datatype);
    const why = compare(expected[o.name], { datatype: o.datatype, shape, data });
    expect(why === null, `output ${o.name}: ${why}`);
  });
  return `${resp.outputs.length} outputs match (answered ${raw.length ? 'raw' : 'typed'})`;
}

async function main() {
  const a = args();
  const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
  const oip = grpc.loadPackageDefinition(
    protoLoader.loadSync(path.join(a.protos, 'kserve', 'open_inference_grpc.proto'), options));
  const health = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(a.protos, 'health', 'health.proto'), options));
  const channelOptions = { 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 };
  const client = new oip.inference.GRPCInferenceService(a.target, grpc.credentials.createInsecure(), channelOptions);
  const healthClient = new health.grpc.health.v1.Health(a.target, grpc.credentials.createInsecure(), channelOptions);
  const models = loadCases(a.models);
  const report = new Report('node-grpc-js');
  const r = (name, fn) => report.check(name, fn);
  try {
    await r('ServerLive', async () => expect((await call(client, 'ServerLive', {})).live === true, 'live is not true'));
    await r('ServerReady', async () => expect((await call(client, 'ServerReady', {})).ready === true, 'ready is not true'));
    await r('ServerMetadata', async () => {
      const md = await call(client, 'ServerMetadata', {});
      expect(md.name && md.version, `name/version missing: ${JSON.stringify(md)}`);
      return `${md.name} ${md.version} ${md.extensions}`;
    });
    await r('Health.Check[overall]', async () => {
      const res = await call(healthClient, 'Check', { service: '' });
      expect(res.status === 'SERVING', `status ${res.status}`);
      return res.status;
    });
    for (const m of ['all_types', 'multi_io', 'strings']) {
      await r(`ModelMetadata[${m}]`, async () => {
        const md = await call(client, 'ModelMetadata', { name: m });
        expect(md.name === m, `name ${md.name}`);
        const want = models[m][0];
        const got = Object.fromEntries(md.inputs.map((t) => [t.name, t.datatype]));
        for (const t of want.inputs) expect(got[t.name] === t.datatype, `input ${t.name}: ${got[t.name]}, expected ${t.datatype}`);
        for (const [n, t] of Object.entries(want.outputs)) {
          const o = md.outputs.find((x) => x.name === n);
          expect(o && o.datatype === t.datatype, `output ${n}: ${o && o.datatype}, expected ${t.datatype}`);
        }
        return `platform ${md.platform}`;
      });
    }
    for (const [m, raw] of [['all_types', true], ['multi_io', true], ['multi_io', false], ['strings', false], ['strings', true]]) {
      for (const [i, c] of models[m].entries()) {
        await r(`ModelInfer.${raw ? 'raw' : 'typed'}[${m}#${i}]`, async () => {
          const id = `${m}-${i}`;
          const resp = await call(client, 'ModelInfer', inferRequest(m, c.inputs, raw, id));
          expect(resp.id === id, `id ${resp.id}`);
          return checkOutputs(resp, c.outputs);
        });
      }
    }
    const fixed = models.fixed_batch[0].inputs;
    await r('Error.unknown-model[NOT_FOUND]', () => expectCode(
      call(client, 'ModelInfer', inferRequest('no-such-model', fixed, true)), grpc.status.NOT_FOUND));
    await r('Error.bad-shape[INVALID_ARGUMENT]', () => expectCode(
      call(client, 'ModelInfer', inferRequest('fixed_batch', [{ ...fixed[0], shape: [2, 3], data: fixed[0].data.slice(0, 6) }], true)),
      grpc.status.INVALID_ARGUMENT));
    await r('Error.unknown-method[UNIMPLEMENTED]', () => expectCode(new Promise((resolve, reject) => {
      client.makeUnaryRequest(`/${SERVICE}/NoSuchMethod`, (x) => x, (x) => x, Buffer.alloc(0),
        { deadline: Date.now() + TIMEOUT_MS }, (err, res) => (err ? reject(err) : resolve(res)));
    }), grpc.status.UNIMPLEMENTED));
    await r('Channel.survives-errors', async () => expect((await call(client, 'ServerLive', {})).live === true, 'not live'));
    report.complete = true;
  } catch (e) {
    console.error(e);
  }
  const failed = report.write(a.out);
  client.close();
  healthClient.close();
  process.exit(report.complete && failed === 0 ? 0 : 1);
}

main();
