import { Graph, createModel, createNode } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { inferElemTypes } from './infer-elem-types.js';

describe('inferElemTypes', () => {
  it('follows the operators type rules, declarations first', () => {
    const body = new Graph({
      name: 'body',
      outputs: [{ name: 'branch_out', dtype: 'float16', shape: [1] }],
    });
    const model = createModel({
      opset: 17,
      inputs: [
        ['x', 'float32', [2, 3]],
        ['flag', 'bool', []],
      ],
      outputs: [['y', 'float32', [2, 3]]],
      valueInfo: [['declared', 'float64', [2, 3]]],
      initializers: { ids: { dtype: 'int64', shape: [1], data: BigInt64Array.of(0n) } },
      nodes: [
        { opType: 'Shape', inputs: ['x'], outputs: ['shape'] },
        { opType: 'Cast', inputs: ['shape'], outputs: ['shape_f'], attributes: { to: 1 } },
        { opType: 'Less', inputs: ['x', 'x'], outputs: ['mask'] },
        { opType: 'Where', inputs: ['mask', 'x', 'x'], outputs: ['chosen'] },
        { opType: 'TopK', inputs: ['x', 'ids'], outputs: ['top', 'top_index'] },
        { opType: 'Dropout', inputs: ['x'], outputs: ['dropped', 'dropout_mask'] },
        { opType: 'ConstantOfShape', inputs: ['shape'], outputs: ['zeros'] },
        { opType: 'Gather', inputs: ['ids', 'ids'], outputs: ['gathered'] },
        { opType: 'Relu', inputs: ['x'], outputs: ['declared'] },
        { opType: 'SplitToSequence', inputs: ['x'], outputs: ['pieces'] },
        {
          opType: 'If',
          inputs: ['flag'],
          outputs: ['branch'],
          attributes: { then_branch: body, else_branch: body },
        },
        { opType: 'Custom', domain: 'example', inputs: ['x'], outputs: ['custom'] },
        { opType: 'Identity', inputs: ['x'], outputs: ['y'] },
      ],
      extraOpsets: [{ domain: 'example', version: 1 }],
    });
    model.graph.addNode(createNode({ opType: 'Relu', inputs: ['custom'], outputs: ['after_custom'] }));
    const types = inferElemTypes(model.graph);
    expect(Object.fromEntries(types)).toEqual({
      x: 'float32',
      flag: 'bool',
      ids: 'int64',
      shape: 'int64',
      shape_f: 'float32',
      mask: 'bool',
      chosen: 'float32',
      top: 'float32',
      top_index: 'int64',
      dropped: 'float32',
      dropout_mask: 'bool',
      zeros: 'float32',
      gathered: 'int64',
      declared: 'float64',
      branch: 'float16',
      y: 'float32',
    });
  });
});
