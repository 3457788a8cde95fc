import { createModel, encodeModel } from '@quantkit/onnx';
import { createTensor } from '@quantkit/core';
import * as ortNode from 'onnxruntime-node';
const ortWeb = await import('onnxruntime-web');
ortWeb.env.wasm.numThreads = 1;
async function tryRun(label, model, feeds) {
  const bytes = encodeModel(model);
  const out = [];
  for (const [name, ort] of [['node', ortNode], ['web', ortWeb]]) {
    try { const s = await ort.InferenceSession.create(bytes);
      const f = {}; for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.dtype, v.data, v.shape);
      const r = await s.run(f); out.push(`${name}:OK ${Array.from(Object.values(r)[0].data).slice(0, 6).map(Number).map(v => v.toFixed(3)).join(',')}`); }
    catch (e) { out.push(`${name}:FAIL(${String(e.message ?? e).split('\n')[0].slice(0, 200)})`); }
  }
  console.log(label.padEnd(40), out.join('  '));
}
const x = { x: { dtype: 'float32', data: new Float32Array(6), shape: [2, 3] } };
for (const opset of [10, 12]) for (const [sshape, axis] of [[[2], 0], [[3], undefined]]) {
  const n = sshape[0];
  const m = createModel({ opset, inputs: [['x', 'float32', [2, 3]]], outputs: [['y', 'float32', [2, 3]]],
    initializers: { q: createTensor('int8', [2, 3], new Int8Array(6).fill(10)), s: createTensor('float32', sshape, Float32Array.from({ length: n }, (_, i) => 0.1 * (i + 1))), z: createTensor('int8', sshape, new Int8Array(n)) },
    nodes: [{ opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['d'] }, { opType: 'Add', inputs: ['x', 'd'], outputs: ['y'] }] });
  await tryRun(`1-D scale [${n}] DQ opset ${opset}`, m, x);
  const m2 = createModel({ opset, inputs: [['x', 'float32', [2, 3]]], outputs: [['y', 'float32', [2, 3]]],
    initializers: { s: createTensor('float32', sshape, Float32Array.from({ length: n }, (_, i) => 0.1 * (i + 1))), z: createTensor('uint8', sshape, new Uint8Array(n)) },
    nodes: [{ opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryRun(`1-D scale [${n}] QDQ opset ${opset}`, m2, x);
}
for (const opset of [18, 19]) for (const dt of ['float8e4m3fn', 'float8e5m2']) {
  const m = createModel({ opset, inputs: [['x', 'float32', [3]]], outputs: [['y', 'float32', [3]]],
    initializers: { s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor(dt, [], Uint8Array.of(0)) },
    nodes: [{ opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryRun(`QDQ ${dt} opset ${opset}`, m, { x: { dtype: 'float32', data: Float32Array.of(1, 2, 3), shape: [3] } });
}
{
  const m = createModel({ opset: 9, inputs: [['x', 'float32', [3]]], outputs: [['y', 'float32', [3]]],
    initializers: { s: createTensor('float32', [], Float32Array.of(0.1)), z: createTensor('uint8', [], Uint8Array.of(0)) },
    nodes: [{ opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }] });
  await tryRun('QDQ opset 9', m, { x: { dtype: 'float32', data: Float32Array.of(1, 2, 3), shape: [3] } });
}
