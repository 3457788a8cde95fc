// How the page writes values: numbers that may be non-finite, magnitudes over many decades, shares, byte counts.
// Pure, and shared by the markup written in Node and the page's own script.
import { encodeNonFinite } from './report-embedding.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

function nonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'n/a';
  if (value === Number.POSITIVE_INFINITY) return '∞';
  if (value === Number.NEGATIVE_INFINITY) return '−∞';
  return undefined;
}

/** `value.toFixed(digits)`, with n/a, ∞ and −∞ for the non-finite values. */
export function fixed(value: number, digits: number): string {
  return nonFinite(value) ?? value.toFixed(digits);
}

/** Errors span many decades (1e-7 for an int8 weight, 3 for a clipped activation). */
export function magnitude(value: number): string {
  const special = nonFinite(value);
  if (special !== undefined) return special;
  if (value === 0) return '0';
  const size = Math.abs(value);
  return size < 1e-3 || size >= 1e5 ? value.toExponential(2) : value.toPrecision(3);
}

/** A share as a percentage, – when there is none. */
export function percent(share: number | undefined): string {
  if (share === undefined) return '–';
  const special = nonFinite(share);
  if (special !== undefined) return special;
  if (share === 0) return '0%';
  const value = share * 100;
  return `${value < 0.01 ? value.toExponential(1) : value.toPrecision(3)}%`;
}

/** A byte count in binary units, the exact count in a tooltip (markup). */
export function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
  return `<span title="${count} bytes">${text}</span>`;
}

/** How many times smaller `after` is than `before`. */
export function ratio(before: number, after: number): string {
  return after > 0 && before > 0 ? `${(before / after).toFixed(2)}× smaller` : 'n/a';
}

/** Recipe fields are listed generically so settings added to the recipe later show up without a change here. */
export function recipeValue(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join(', ');
  if (typeof value === 'object') return JSON.stringify(value, encodeNonFinite);
  return String(value);
}
