#!/usr/bin/env node
// Fills the model corpus cache from npm. For every entry of corpus.json it packs the entry's npm package with
// `npm pack` (no install, no scripts), pulls the one .onnx file out of the .tgz with the small tar reader below,
// checks its sha256 and writes it to <cache>/<id>.onnx atomically. Files already cached with the right sha256
// are left alone. Nothing here depends on anything but Node and the npm client.
//
//   node tooling/corpus/fetch-corpus.mjs            fetch whatever is missing
//   node tooling/corpus/fetch-corpus.mjs --check    only report; exit 1 when a model is missing or wrong
//   node tooling/corpus/fetch-corpus.mjs ID...      limit either mode to the named entries
//
// The cache folder is $QUANTKIT_CORPUS_DIR, or ~/.cache/quantkit-corpus when that is unset.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { corpusDir, corpusJsonPath } from './corpus.mjs';

const BLOCK = 512;

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

// --- tar -------------------------------------------------------------------------------------------------------

function cString(block, start, length) {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end === -1 ? length : end);
}

// Numeric header fields are octal text, or big-endian base-256 when the first byte has its high bit set.
function tarNumber(block, start, length) {
  const field = block.subarray(start, start + length);
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + field[i];
    return value;
  }
  const text = cString(block, start, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function checksumMatches(block) {
  const stored = tarNumber(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === stored;
}

// A pax header body is a run of "<length> <key>=<value>\n" records, the length counting the whole record.
function paxRecords(body) {
  const records = {};
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) break;
    const length = Number.parseInt(body.toString('utf8', pos, space), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return records;
}

function normalizeTarPath(path) {
  return path.replace(/^(\.\/)+/, '');
}

/**
 * Walks an uncompressed tar archive and returns the data of the regular file stored at `wanted`, or null.
 * Understands ustar names split over prefix + name, GNU 'L' long-name entries and pax 'x' headers (path=).
 */
function extractFromTar(tar, wanted) {
  const target = normalizeTarPath(wanted);
  let pos = 0;
  let longName = null; // from a GNU 'L' entry, applies to the next entry
  let paxPath = null; // from a pax 'x' header, applies to the next entry
  let globalPaxPath = null; // from a pax 'g' header, applies to every later entry
  while (pos + BLOCK <= tar.length) {
    const header = tar.subarray(pos, pos + BLOCK);
    if (header.every((byte) => byte === 0)) break; // end-of-archive marker
    if (!checksumMatches(header)) throw new Error(`corrupt tar header at byte ${pos}`);
    const type = String.fromCharCode(header[156] || 0x30);
    const size = tarNumber(header, 124, 12);
    const dataStart = pos + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    if (data.length < size) throw new Error(`tar entry at byte ${pos} runs past the end of the archive`);
    pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'x' || type === 'g') {
      const path = paxRecords(data).path;
      if (type === 'x') paxPath = path ?? null;
      else if (path !== undefined) globalPaxPath = path;
      continue;
    }
    let name = cString(header, 0, 100);
    const magic = cString(header, 257, 6);
    if (magic.startsWith('ustar')) {
      const prefix = cString(header, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    name = paxPath ?? longName ?? globalPaxPath ?? name;
    longName = null;
    paxPath = null;
    const isFile = type === '0' || type === '7';
    if (isFile && normalizeTarPath(name) === target) return Buffer.from(data);
  }
  return null;
}

// --- npm -------------------------------------------------------------------------------------------------------

function npmPack(spec, destination) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const stdout = execFileSync(
    npm,
    ['pack', spec, '--pack-destination', destination, '--ignore-scripts', '--json', '--loglevel=error'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1048576,
      shell: process.platform === 'win32',
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    },
  );
  let filename = null;
  try {
    filename = JSON.parse(stdout)?.[0]?.filename ?? null;
  } catch {
    // older clients print the file name instead of JSON
  }
  const candidates = readdirSync(destination).filter((f) => f.endsWith('.tgz'));
  const found =
    filename && candidates.includes(filename) ? filename : candidates.length === 1 ? candidates[0] : null;
  if (!found) throw new Error(`npm pack ${spec} produced no single .tgz in ${destination}`);
  return join(destination, found);
}

// --- main ------------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const options = { check: false, quiet: false, ids: [] };
  for (const arg of argv) {
    if (arg === '--check') options.check = true;
    else if (arg === '--quiet') options.quiet = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else options.ids.push(arg);
  }
  return options;
}

function cachedState(file, expected) {
  if (!existsSync(file)) return 'missing';
  return sha256(readFileSync(file)) === expected ? 'ok' : 'wrong';
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log('usage: node tooling/corpus/fetch-corpus.mjs [--check] [--quiet] [ID...]  (--quiet: print only what it fetches)');
    return 0;
  }
  const all = JSON.parse(readFileSync(corpusJsonPath, 'utf8'));
  const unknown = options.ids.filter((id) => !all.some((entry) => entry.id === id));
  if (unknown.length > 0) throw new Error(`no corpus entry named ${unknown.join(', ')}`);
  const entries = options.ids.length > 0 ? all.filter((entry) => options.ids.includes(entry.id)) : all;
  const dir = corpusDir();
  if (!options.quiet) console.log(`corpus: ${entries.length} models in ${dir}`);

  const states = new Map(
    entries.map((entry) => [entry.id, cachedState(join(dir, `${entry.id}.onnx`), entry.sha256)]),
  );

  if (options.check) {
    const bad = [];
    for (const entry of entries) {
      const state = states.get(entry.id);
      const label = state === 'ok' ? 'present' : state === 'wrong' ? 'WRONG-SHA' : 'MISSING';
      console.log(
        `${label.padEnd(9)} ${entry.id.padEnd(28)} ${megabytes(entry.bytes).padStart(8)}  ${entry.package}@${entry.version}`,
      );
      if (state !== 'ok') bad.push(entry.id);
    }
    if (bad.length > 0) {
      console.log(
        `${bad.length} of ${entries.length} missing or wrong: ${bad.join(', ')} (run node tooling/corpus/fetch-corpus.mjs)`,
      );
      return 1;
    }
    console.log(`all ${entries.length} present`);
    return 0;
  }

  mkdirSync(dir, { recursive: true });
  const failures = [];
  let fetched = 0;
  let skipped = 0;
  // One `npm pack` per package version, however many models it holds.
  const bySpec = new Map();
  for (const entry of entries) {
    if (states.get(entry.id) === 'ok') {
      skipped++;
      if (!options.quiet) console.log(`cached    ${entry.id.padEnd(28)} ${megabytes(entry.bytes).padStart(8)}  sha256 ok`);
      continue;
    }
    const spec = `${entry.package}@${entry.version}`;
    if (!bySpec.has(spec)) bySpec.set(spec, []);
    bySpec.get(spec).push(entry);
  }

  for (const [spec, group] of bySpec) {
    const work = mkdtempSync(join(tmpdir(), 'quantkit-corpus-'));
    try {
      let tar;
      try {
        tar = gunzipSync(readFileSync(npmPack(spec, work)));
      } catch (error) {
        const reason = String(error.stderr || error.message || error)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' | ');
        for (const entry of group) {
          failures.push(entry.id);
          console.log(`FAILED    ${entry.id.padEnd(28)} npm pack ${spec}: ${reason}`);
        }
        continue;
      }
      for (const entry of group) {
        const bytes = extractFromTar(tar, entry.path);
        if (!bytes) {
          failures.push(entry.id);
          console.log(`FAILED    ${entry.id.padEnd(28)} ${entry.path} is not in ${spec}`);
          continue;
        }
        const actual = sha256(bytes);
        if (actual !== entry.sha256) {
          failures.push(entry.id);
          console.log(
            `MISMATCH  ${entry.id.padEnd(28)} ${spec}:${entry.path} sha256 ${actual}, corpus.json says ${entry.sha256}`,
          );
          continue;
        }
        const file = join(dir, `${entry.id}.onnx`);
        const partial = `${file}.${process.pid}.partial`;
        writeFileSync(partial, bytes);
        renameSync(partial, file);
        fetched++;
        console.log(
          `fetched   ${entry.id.padEnd(28)} ${megabytes(bytes.length).padStart(8)}  ${spec}:${entry.path}`,
        );
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  if (!options.quiet || fetched > 0 || failures.length > 0) {
    console.log(`${fetched} fetched, ${skipped} already cached, ${failures.length} failed`);
  }
  if (failures.length > 0) {
    console.log(`failed: ${failures.join(', ')}`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`fetch-corpus: ${error.message}`);
  process.exitCode = 2;
}
