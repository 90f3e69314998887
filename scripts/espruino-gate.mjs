#!/usr/bin/env node
/**
 * CI gate for the Espruino bundles (embedded.md §7.4: no Espruino interpreter exists in CI, so
 * the built code is checked statically). For every dist/espruino/<board>.js:
 *  1. syntax Espruino cannot run (EspruinoDocs info/Features.md): destructuring, rest/spread,
 *     default parameters, optional chaining, async/await, generators, tagged templates, labels,
 *     private names, class fields, bigint literals, `**`, logical assignment, import()/modules,
 *     enhanced object literals (shorthand, methods, computed keys), regex flags u/y/s/d/v;
 *  2. globals and built-ins it lacks: BigInt, Map, Set, WeakMap, WeakSet, Symbol, Proxy,
 *     Reflect, TextEncoder, TextDecoder, BigInt64Array, BigUint64Array, globalThis, ...,
 *     Array.from/of, TypedArray.from/of, Object.freeze/seal, Number.isNaN/isInteger/...,
 *     Math.trunc/sign/log2/fround, String.raw, Promise.race/allSettled/any, .lastIndexOf,
 *     .padStart/.padEnd, .finally;
 *  3. use before definition at load time (Espruino does not hoist functions): a top-level
 *     statement that runs while loading may only reach (directly, or through the top-level
 *     functions and classes it references) names defined by earlier statements;
 *  4. the size budget of the board (boards/espruino/boards.json) — sizes, gzip sizes and a RAM
 *     estimate (JsVars ≈ bytes / 12 if the code is held in RAM) are printed;
 *  5. bleed: no JOSE / JSON-envelope / asymmetric-crypto code (ECDH, A256CBC, X25519, Ed25519,
 *     @noble, BigInt, ...) may reach a device bundle.
 * Usage: node scripts/espruino-gate.mjs [--dir dist/espruino] [--json]   (exit 1 on failure)
 *        node scripts/espruino-gate.mjs --file some.js                   (checks one file)
 */
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const BANNED_SYNTAX = {
  ObjectPattern: 'destructuring',
  ArrayPattern: 'destructuring',
  RestElement: 'rest parameters/elements',
  SpreadElement: 'spread',
  AssignmentPattern: 'default values',
  ChainExpression: 'optional chaining',
  AwaitExpression: 'await',
  YieldExpression: 'yield',
  TaggedTemplateExpression: 'tagged templates',
  LabeledStatement: 'labels',
  PrivateIdentifier: 'private class members',
  PropertyDefinition: 'class fields',
  StaticBlock: 'class static blocks',
  ImportExpression: 'import()',
  ImportDeclaration: 'ES modules',
  ExportNamedDeclaration: 'ES modules',
  ExportDefaultDeclaration: 'ES modules',
  ExportAllDeclaration: 'ES modules',
  MetaProperty: 'new.target / import.meta',
  WithStatement: 'with',
};

export const BANNED_GLOBALS = [
  'BigInt', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Symbol', 'Proxy', 'Reflect',
  'TextEncoder', 'TextDecoder', 'BigInt64Array', 'BigUint64Array', 'globalThis', 'Intl', 'SharedArrayBuffer', 'Atomics',
  'structuredClone', 'queueMicrotask',
];

const TYPED = ['Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Uint8ClampedArray'];
export const BANNED_MEMBERS = {
  Array: ['from', 'of'],
  Object: ['freeze', 'seal', 'preventExtensions', 'isFrozen', 'isSealed', 'isExtensible', 'getOwnPropertySymbols'],
  Number: ['isNaN', 'isFinite', 'isInteger', 'isSafeInteger', 'EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER', 'parseFloat', 'parseInt'],
  Math: ['trunc', 'sign', 'log2', 'log10', 'log1p', 'expm1', 'fround', 'hypot', 'cbrt', 'clz32', 'imul'],
  String: ['raw', 'fromCodePoint'],
  Promise: ['race', 'allSettled', 'any'],
  ...Object.fromEntries(TYPED.map((t) => [t, ['from', 'of']])),
};
/** Methods missing on every receiver (Features.md: no [].lastIndexOf; no Promise.finally). */
export const BANNED_METHODS = ['lastIndexOf', 'padStart', 'padEnd', 'finally', 'codePointAt', 'normalize', 'flatMap', 'flat', 'replaceAll', 'at'];

/** Strings that mean envelope or asymmetric-crypto code leaked into a device bundle. */
export const BLEED_MARKERS = [
  'ecdh', 'a256cbc', 'a256gcm', 'a256kw', 'xc20p', 'x25519', 'ed25519', 'secp256k1', 'p-256', '@noble', 'bigint',
  'hpke', 'chacha', 'poly1305', 'jose', 'didcomm-encrypted', 'didcomm-signed', 'application/didcomm', 'cbor-x', 'eddsa',
];

// ---- a small scope analysis ----------------------------------------------------------------

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function children(node) {
  const out = [];
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'loc') continue;
    const v = node[key];
    if (Array.isArray(v)) for (const x of v) if (x && typeof x.type === 'string') out.push(x);
    if (v && typeof v.type === 'string') out.push(v);
  }
  return out;
}

/** Names declared by `var` / function declarations / classes in a function body (not nested functions). */
function hoisted(body, names) {
  const visit = (n) => {
    if (!n || typeof n.type !== 'string') return;
    if (n.type === 'VariableDeclaration') for (const d of n.declarations) if (d.id.type === 'Identifier') names.add(d.id.name);
    if (n.type === 'FunctionDeclaration' || n.type === 'ClassDeclaration') {
      if (n.id) names.add(n.id.name);
      if (n.type === 'FunctionDeclaration') return;
    }
    if (FUNCTION_TYPES.has(n.type)) return;
    for (const c of children(n)) visit(c);
  };
  visit(body);
  return names;
}

/** Is this Identifier a reference (not a property name, label or declaration id)? */
function isReference(node, parent) {
  if (!parent) return true;
  switch (parent.type) {
    case 'MemberExpression':
      return parent.object === node || parent.computed;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return parent.value === node || (parent.computed && parent.key === node);
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return false;
    case 'VariableDeclarator':
      return parent.init === node;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return parent.body === node;
    case 'ClassDeclaration':
    case 'ClassExpression':
      return parent.superClass === node;
    case 'CatchClause':
      return parent.body === node;
    default:
      return true;
  }
}

/**
 * Walks the program with scopes. Calls `onRef(name, node, resolvesToTop, ctx)` for every
 * reference; `ctx.loadTime` says whether it runs while the program loads (not inside a function
 * that is only defined), `ctx.owner` the top-level statement index it sits in.
 */
function analyse(program, onRef, onNode) {
  const top = hoisted(program, new Set());
  const walk = (node, parent, scopes, ctx) => {
    onNode(node, parent, ctx);
    if (node.type === 'Identifier' && isReference(node, parent)) {
      let local = false;
      for (let i = scopes.length - 1; i >= 1 && !local; i--) local = scopes[i].has(node.name);
      onRef(node.name, node, !local && top.has(node.name), !local && !top.has(node.name), ctx);
      return;
    }
    if (FUNCTION_TYPES.has(node.type)) {
      const names = new Set(['arguments']);
      if (node.type === 'FunctionExpression' && node.id) names.add(node.id.name);
      for (const p of node.params) if (p.type === 'Identifier') names.add(p.name);
      hoisted(node.body, names);
      // An immediately invoked function runs at load time; any other only when called.
      const iife = parent && (parent.type === 'CallExpression' || parent.type === 'NewExpression') && parent.callee === node;
      const inner = { ...ctx, loadTime: ctx.loadTime && iife };
      for (const c of children(node)) walk(c, node, [...scopes, names], inner);
      return;
    }
    if (node.type === 'CatchClause') {
      const names = new Set(node.param && node.param.type === 'Identifier' ? [node.param.name] : []);
      for (const c of children(node)) walk(c, node, [...scopes, names], ctx);
      return;
    }
    if (node.type === 'ClassDeclaration' || node.type === 'ClassExpression') {
      const names = new Set(node.id ? [node.id.name] : []);
      for (const c of children(node)) walk(c, node, [...scopes, names], ctx);
      return;
    }
    for (const c of children(node)) walk(c, node, scopes, ctx);
  };
  program.body.forEach((stmt, index) => walk(stmt, program, [top], { loadTime: true, owner: index }));
  return top;
}

function position(code, offset) {
  const before = code.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

/** Checks one piece of code; returns a list of problems ({ rule, message, at }). */
export function checkEspruinoSource(code, name = 'input') {
  const problems = [];
  const add = (rule, message, offset) => problems.push({ rule, message: `${name}:${position(code, offset)} ${message}`, at: offset });
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true });
  } catch (e) {
    try {
      acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' });
      add('syntax', 'ES module syntax (import/export): Espruino has CommonJS only', 0);
    } catch {
      add('syntax', `does not parse: ${e.message}`, e.pos ?? 0);
    }
    return problems;
  }
  const defined = new Map(); // top-level name -> statement index
  ast.body.forEach((stmt, i) => {
    const names = hoisted(stmt.type === 'FunctionDeclaration' || stmt.type === 'ClassDeclaration' ? { type: 'Program', body: [stmt] } : stmt, new Set());
    for (const n of names) if (!defined.has(n)) defined.set(n, i);
  });
  const loadRefs = []; // [name, statement index, offset]
  const refsByOwner = new Map(); // statement index -> top-level names referenced anywhere in it
  analyse(
    ast,
    (name, node, toTop, global, ctx) => {
      if (toTop) {
        if (!refsByOwner.has(ctx.owner)) refsByOwner.set(ctx.owner, new Set());
        refsByOwner.get(ctx.owner).add(name);
        if (ctx.loadTime) loadRefs.push([name, ctx.owner, node.start]);
      }
      if (global && BANNED_GLOBALS.includes(name)) add('global', `uses ${name}, which Espruino does not have`, node.start);
    },
    (node, parent) => {
      if (BANNED_SYNTAX[node.type]) add('syntax', `${BANNED_SYNTAX[node.type]} (${node.type})`, node.start);
      if ((node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') && (node.async || node.generator)) {
        add('syntax', node.async ? 'async function' : 'generator function', node.start);
      }
      if (node.type === 'Literal' && node.bigint !== undefined) add('syntax', `bigint literal ${node.raw}`, node.start);
      if (node.type === 'Literal' && node.regex && /[uysdv]/.test(node.regex.flags)) add('syntax', `regex flag in /${node.regex.pattern}/${node.regex.flags}`, node.start);
      if ((node.type === 'BinaryExpression' || node.type === 'AssignmentExpression') && (node.operator === '**' || node.operator === '**=')) add('syntax', 'exponent operator **', node.start);
      if (node.type === 'AssignmentExpression' && ['&&=', '||=', '??='].includes(node.operator)) add('syntax', `logical assignment ${node.operator}`, node.start);
      if (node.type === 'Property' && parent && parent.type === 'ObjectExpression' && (node.shorthand || node.method || node.computed)) {
        add('syntax', `enhanced object literal (${node.shorthand ? 'shorthand' : node.method ? 'method' : 'computed key'})`, node.start);
      }
      if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') {
        const prop = node.property.name;
        if (node.object.type === 'Identifier' && BANNED_MEMBERS[node.object.name]?.includes(prop)) add('builtin', `${node.object.name}.${prop} does not exist on Espruino`, node.start);
        if (BANNED_METHODS.includes(prop)) add('builtin', `.${prop} does not exist on Espruino`, node.property.start);
      }
    },
  );
  // Use before definition: what runs at load time may only reach earlier definitions.
  const reach = (name, seen) => {
    if (seen.has(name)) return;
    seen.add(name);
    const owner = defined.get(name);
    if (owner === undefined) return;
    for (const n of refsByOwner.get(owner) ?? []) reach(n, seen);
  };
  for (const [name, owner, offset] of loadRefs) {
    if (ast.body[owner].type === 'FunctionDeclaration') continue;
    const seen = new Set();
    reach(name, seen);
    for (const n of seen) {
      const at = defined.get(n);
      if (at !== undefined && at > owner) {
        add('hoisting', `${n === name ? n : `${name} (through ${n})`} is used at load time before its definition (Espruino does not hoist)`, offset);
        break;
      }
    }
  }
  return problems;
}

/** Bleed markers found in a bundle (lowercase match). */
export function bleedMarkers(code) {
  const lower = code.toLowerCase();
  return BLEED_MARKERS.filter((m) => lower.includes(m));
}

export function loadBoardInfo() {
  return JSON.parse(readFileSync(resolve(root, 'boards/espruino/boards.json'), 'utf8'));
}

/** Checks every board bundle in `dir`; returns rows with sizes and problems. */
export function checkBundles(dir = resolve(root, 'dist/espruino'), boards = loadBoardInfo()) {
  const rows = [];
  for (const [board, info] of Object.entries(boards)) {
    const file = resolve(dir, `${board}.js`);
    if (!existsSync(file)) {
      rows.push({ board, bytes: 0, gzip: 0, budget: info.maxBundleBytes, jsVarsEstimate: 0, jsVars: info.jsVars, problems: [{ rule: 'missing', message: `${file} not built (npx rollup -c boards/espruino/rollup.config.mjs)` }] });
      continue;
    }
    const code = readFileSync(file, 'utf8');
    const bytes = Buffer.byteLength(code);
    const problems = checkEspruinoSource(code, `${board}.js`);
    if (bytes > info.maxBundleBytes) problems.push({ rule: 'size', message: `${board}.js is ${bytes} B, over its budget of ${info.maxBundleBytes} B` });
    for (const m of bleedMarkers(code)) problems.push({ rule: 'bleed', message: `${board}.js contains "${m}" (envelope or asymmetric crypto code in a device bundle)` });
    rows.push({ board, bytes, gzip: gzipSync(code, { level: 9 }).length, budget: info.maxBundleBytes, jsVarsEstimate: Math.ceil(bytes / 12), jsVars: info.jsVars, problems });
  }
  return rows;
}

export function formatRows(rows) {
  const lines = ['board      minified   gzip  budget   ~JsVars if in RAM (of board)  result'];
  for (const r of rows) {
    const pct = r.jsVars ? ` (${Math.round((100 * r.jsVarsEstimate) / r.jsVars)} % of ${r.jsVars})` : '';
    lines.push(`${r.board.padEnd(10)} ${String(r.bytes).padStart(8)} ${String(r.gzip).padStart(6)} ${String(r.budget).padStart(7)}   ${`${r.jsVarsEstimate}${pct}`.padEnd(28)}  ${r.problems.length ? 'FAIL' : 'ok'}`);
  }
  for (const r of rows) for (const p of r.problems) lines.push(`  [${p.rule}] ${p.message}`);
  return lines.join('\n');
}

function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const file = arg('--file');
  if (file) {
    const problems = checkEspruinoSource(readFileSync(file, 'utf8'), file);
    for (const p of problems) console.log(`[${p.rule}] ${p.message}`);
    console.log(problems.length ? `${problems.length} problem(s)` : 'ok');
    return problems.length ? 1 : 0;
  }
  const rows = checkBundles(resolve(arg('--dir') ?? resolve(root, 'dist/espruino')));
  console.log(argv.includes('--json') ? JSON.stringify(rows, null, 2) : formatRows(rows));
  return rows.some((r) => r.problems.length) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
