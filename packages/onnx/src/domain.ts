/**
 * True for the default ONNX operator domain, which models spell either '' or 'ai.onnx'. Every check for "a
 * standard ONNX op" goes through here, so a model that spells it 'ai.onnx' is treated exactly like one that does not.
 */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}
