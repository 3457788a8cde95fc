import { createModel, encodeModel } from '@quantkit/onnx';
import { createTensor } from '@quantkit/core';
import * as ortNode from 'onnxruntime-node';
const ortWeb = await import('onnxruntime-web');
ortWeb.env.wasm.numThreads = 1;

async function tryLoad(label, model) {
  const bytes = encodeModel(model);
  const out = [];
  for (const [name, ort] of [['node', ortNode], ['web', ortWeb]]) {
    try { const s = await ort.InferenceSession.create(bytes); out.push(`${name}:OK`); await s.release?.(); }
    catch (e) { out.push(`${name}:FAIL(${String(e.message ?? e).split('\n')[0].slice(0, 160)})`); }
  }
  console.log(label.padEnd(40), out.join('  '));
}
const arr = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, int4: Int8Array, uint4: Uint8Array };
// ConvInteger / MatMulInteger
for (const op of ['ConvInteger', 'MatMulInteger']) {
  for (const a of ['uint8', 'int8']) for (const w of ['uint8', 'int8']) {
    const wshape = op === 'ConvInteger' ? [2, 1, 1, 1] : [3, 2];
    const xshape = op === 'ConvInteger' ? [1, 1, 2, 2] : [1, 3];
    const yshape = op === 'ConvInteger' ? [1, 2, 2, 2] : [1, 2];
    const m = createModel({ opset: 13, inputs: [['x', a, xshape]], outputs: [['y', 'int32', yshape]],
      initializers: { w: createTensor(w, wshape, new arr[w](wshape.reduce((p, c) => p * c, 1)).fill(1)) },
      nodes: [{ opType: op, inputs: ['x', 'w'], outputs: ['y'] }] });
    await tryLoad(`${op} ${a} x ${w}`, m);
  }
}
// per-channel DQ
for (const opset of [10, 12, 13]) {
  for (const withAxis of [true, false]) {
    const m = createModel({ opset, inputs: [['x', 'float32', [2, 3]]], outputs: [['y', 'float32', [2, 3]]],
      initializers: { q: createTensor('int8', [2, 3], new Int8Array(6).fill(3)), s: createTensor('float32', [2], Float32Array.of(0.1, 0.2)), z: createTensor('int8', [2], new Int8Array(2)) },
      nodes: [{ opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['d'], attributes: withAxis ? { axis: 0 } : {} }, { opType: 'Add', inputs: ['x', 'd'], outputs: ['y'] }] });
    await tryLoad(`perchannel DQ opset ${opset} axis=${withAxis}`, m);
  }
}
// 16-bit / 4-bit QDQ
for (const dt of ['int16', 'uint16', 'int4', 'uint4']) for (const opset of [13, 19, 21]) {
  const m = createModel({ opset, inputs: [['x', 'float32', [2, 3]]], outputs: [['y', 'float32', [2, 3]]],
    initializers: { s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor(dt, [], new arr[dt](1)) },
    nodes: [{ opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryLoad(`QDQ ${dt} opset ${opset}`, m);
  const m2 = createModel({ opset, extraOpsets: [{ domain: 'com.microsoft', version: 1 }], inputs: [['x', 'float32', [2, 3]]], outputs: [['y', 'float32', [2, 3]]],
    initializers: { s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor(dt, [], new arr[dt](1)) },
    nodes: [{ opType: 'QuantizeLinear', domain: 'com.microsoft', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', domain: 'com.microsoft', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryLoad(`ms QDQ ${dt} opset ${opset}`, m2);
}
// int32 DQ with nonzero zero point
for (const zp of [0, 5]) {
  const m = createModel({ opset: 13, inputs: [['x', 'float32', [3]]], outputs: [['y', 'float32', [3]]],
    initializers: { b: createTensor('int32', [3], Int32Array.of(1, 2, 3)), s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor('int32', [], Int32Array.of(zp)) },
    nodes: [{ opType: 'DequantizeLinear', inputs: ['b', 's', 'z'], outputs: ['d'] }, { opType: 'Add', inputs: ['x', 'd'], outputs: ['y'] }] });
  await tryLoad(`int32 DQ zp=${zp}`, m);
  const bytes = encodeModel(m);
  const s = await ortNode.InferenceSession.create(bytes);
  const r = await s.run({ x: new ortNode.Tensor('float32', new Float32Array(3), [3]) });
  console.log('   result', Array.from(r.y.data));
}
// opset 9 ONNX QDQ
{
  const m = createModel({ opset: 9, inputs: [['x', 'float32', [3]]], outputs: [['y', 'float32', [3]]],
    initializers: { s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor('uint8', [], Uint8Array.of(0)) },
    nodes: [{ opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryLoad('QDQ opset 9', m);
}
// float8
for (const opset of [18, 19]) for (const dt of ['float8e4m3fn', 'float8e5m2']) {
  const m = createModel({ opset, inputs: [['x', 'float32', [3]]], outputs: [['y', 'float32', [3]]],
    initializers: { s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor(dt, [], Uint8Array.of(0)) },
    nodes: [{ opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryLoad(`QDQ ${dt} opset ${opset}`, m);
}
