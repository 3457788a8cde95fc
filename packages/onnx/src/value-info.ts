import type { DType } from '@quantkit/core';
import type { StringStringEntryProto, TypeProto } from './onnx-schema.js';

/** A dimension: a size, a symbolic name (e.g. "batch"), or undefined when unknown. */
export type Dim = number | string | undefined;

/**
 * Name and (when it is a tensor) type of a graph input, output or intermediate value.
 * `dtype` is undefined for non-tensor values and unknown element types; `shape` undefined for unknown rank.
 * `raw` is the decoded TypeProto; it is written back unchanged while it agrees with dtype and shape (or when dtype
 * is undefined), so sequence/map/optional types and dimension denotations survive a round trip.
 */
export interface ValueInfo {
  name: string;
  dtype?: DType | undefined;
  shape?: Dim[] | undefined;
  docString?: string | undefined;
  metadataProps?: StringStringEntryProto[] | undefined;
  raw?: TypeProto | undefined;
}

/** Known type of a value. */
export interface ValueType {
  dtype: DType | undefined;
  shape: Dim[] | undefined;
}
