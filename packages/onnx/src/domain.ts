/**
 * True for the default ONNX operator domain, which models spell either '' or 'ai.onnx'. Every check for "a
 * standard ONNX op" goes through here, so a model that spells it 'ai.onnx' is treated exactly like one that does not.
 */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** The domain as quantkit keys it: '' for the default ONNX domain however it is spelled, else unchanged. */
export function normalizeDomain(domain: string): string {
  return isDefaultDomain(domain) ? '' : domain;
}
