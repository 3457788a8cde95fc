import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Plugin, QuantError, pluginsOfModule } from '@quantkit/core';

/** A plugin loaded from --plugin, with the spec the user typed so listings and errors can name it. */
export interface LoadedPlugin {
  readonly plugin: Plugin;
  readonly source: string;
  /** The module file it came from (absolute), for worker threads to load it again. */
  readonly module: string;
}

// Anything that reads as a path is a path, even when the file is missing, so the error says "no such file" rather
// than "no such package". A bare name that happens to be a file in the working folder is also taken as that file.
function looksLikePath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || spec.includes('\\') || /\.(m?js|cjs)$/.test(spec);
}

function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry !== 'object' || entry === null) return undefined;
  const conditions = entry as Record<string, unknown>;
  for (const condition of ['import', 'node', 'default']) {
    const target = exportTarget(conditions[condition]);
    if (target !== undefined) return target;
  }
  return undefined;
}

/**
 * Finds a package's ES entry the way Node's ESM resolver would from `cwd`: the nearest
 * node_modules/<name>/package.json upward, then `exports["."]` (import/node/default), then `module`, `main`.
 * require.resolve cannot be used because many plugin packages export only an "import" condition.
 */
function resolvePackage(spec: string, cwd: string): string | undefined {
  const parts = spec.split('/');
  const nameLength = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.slice(nameLength).join('/');
  for (let folder = resolve(cwd); ; folder = dirname(folder)) {
    const packageDir = join(folder, 'node_modules', name);
    if (existsSync(join(packageDir, 'package.json'))) return packageEntry(packageDir, subpath);
    if (dirname(folder) === folder) return undefined;
  }
}

/** The ES entry of a package folder for a subpath ('' for the package itself), per its package.json. */
function packageEntry(packageDir: string, subpath: string): string | undefined {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const exportsField = manifest['exports'];
  const key = subpath === '' ? '.' : `./${subpath}`;
  let target: string | undefined;
  if (exportsField !== undefined) {
    const isSubpathMap =
      typeof exportsField === 'object' &&
      exportsField !== null &&
      Object.keys(exportsField).some((entry) => entry.startsWith('.'));
    target = exportTarget(
      isSubpathMap ? (exportsField as Record<string, unknown>)[key] : key === '.' ? exportsField : undefined,
    );
  } else if (subpath !== '') {
    target = subpath;
  } else {
    target =
      (manifest['module'] as string | undefined) ?? (manifest['main'] as string | undefined) ?? 'index.js';
  }
  return target === undefined ? undefined : join(packageDir, target);
}

/**
 * Imports --plugin modules: each is a path (relative to `cwd`) or a package name, and its default export or named
 * export `plugins` / `plugin` is a plugin or an array of plugins.
 *
 * @example const loaded = await loadPlugins(['./ternary.mjs'], process.cwd());
 * @throws QuantError PLUGIN_INVALID naming the path when the module is missing, fails to load, exports no plugin or
 * exports a malformed one.
 */
export async function loadPlugins(specs: readonly string[], cwd: string): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const spec of specs) {
    const asFile = resolve(cwd, spec);
    const isFile = looksLikePath(spec) || existsSync(asFile);
    let entry: string | undefined;
    if (isFile && existsSync(join(asFile, 'package.json'))) {
      // A package folder (say ./examples/plugin-ternary): load the entry its package.json names.
      try {
        entry = packageEntry(asFile, '');
      } catch (error) {
        throw new QuantError(
          'PLUGIN_INVALID',
          `--plugin ${spec}: cannot read its package.json: ${messageOf(error)}`,
          {
            cause: error,
          },
        );
      }
      if (entry === undefined || !existsSync(entry)) {
        throw new QuantError(
          'PLUGIN_INVALID',
          `--plugin ${spec}: its package.json names no ES entry that exists${entry ? ` (${entry}; build it first?)` : ''}`,
        );
      }
    } else if (isFile) {
      if (!existsSync(asFile) || !statSync(asFile).isFile()) {
        throw new QuantError('PLUGIN_INVALID', `--plugin ${spec}: no such file (${asFile})`);
      }
      entry = asFile;
    } else {
      try {
        entry = resolvePackage(spec, cwd);
      } catch (error) {
        throw new QuantError(
          'PLUGIN_INVALID',
          `--plugin ${spec}: cannot read the package: ${messageOf(error)}`,
          {
            cause: error,
          },
        );
      }
      if (entry === undefined) {
        throw new QuantError(
          'PLUGIN_INVALID',
          `--plugin ${spec}: no such file, and no package of that name is installed under ${cwd}`,
        );
      }
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    } catch (error) {
      throw new QuantError('PLUGIN_INVALID', `--plugin ${spec}: failed to load: ${messageOf(error)}`, {
        cause: error,
      });
    }
    for (const plugin of pluginsOfModule(module, `--plugin ${spec}`))
      loaded.push({ plugin, source: spec, module: entry });
  }
  return loaded;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Keep errors to one line: module loaders put code frames after the first line.
  return message.split('\n')[0] ?? message;
}
