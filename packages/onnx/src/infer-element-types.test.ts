import { createModel, createNode } from './model-builder.js';
import { Graph } from './graph.js';
import { describe, expect, it } from 'vitest';
import { inferElementTypes } from './infer-element-types.js';

describe('inferElementTypes', () => {
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
    const types = inferElementTypes(model.graph);
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

  it('infers through If, Loop and Scan bodies whose outputs are not declared', () => {
    // The branch computes Shape -> Cast(float) from an outer value; its output declares no type.
    const branch = new Graph({
      name: 'branch',
      nodes: [
        createNode({ opType: 'Shape', inputs: ['x'], outputs: ['s'] }),
        createNode({ opType: 'Cast', inputs: ['s'], outputs: ['f'], attributes: { to: 1 } }),
      ],
      outputs: [{ name: 'f' }, { name: 's' }],
    });
    const loopBody = new Graph({
      name: 'loop_body',
      inputs: [{ name: 'i', dtype: 'int64' }, { name: 'cond_in', dtype: 'bool' }, { name: 'acc' }],
      nodes: [
        createNode({ opType: 'Identity', inputs: ['cond_in'], outputs: ['cond_out'] }),
        createNode({ opType: 'Add', inputs: ['x', 'x'], outputs: ['acc_out'] }),
      ],
      outputs: [{ name: 'cond_out' }, { name: 'acc_out' }],
    });
    const model = createModel({
      opset: 17,
      inputs: [
        ['x', 'float16', [2]],
        ['flag', 'bool', []],
      ],
      outputs: [['y', 'float16', [2]]],
      initializers: { trips: { dtype: 'int64', shape: [], data: BigInt64Array.of(2n) } },
      nodes: [
        {
          opType: 'If',
          inputs: ['flag'],
          outputs: ['branch_f', 'branch_s'],
          attributes: { then_branch: branch, else_branch: branch },
        },
        {
          opType: 'Loop',
          inputs: ['trips', 'flag', 'x'],
          outputs: ['looped'],
          attributes: { body: loopBody },
        },
        { opType: 'Identity', inputs: ['x'], outputs: ['y'] },
      ],
    });
    const types = inferElementTypes(model.graph);
    expect(types.get('branch_f')).toBe('float32');
    expect(types.get('branch_s')).toBe('int64');
    expect(types.get('looped')).toBe('float16');
  });
});
