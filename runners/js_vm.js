'use strict';
// Long-lived Node.js worker of the JavaScript sandbox: runs each program in a fresh V8 context
// (a new realm: its own globals and built-ins), so a program costs a context (~1 ms), not a Node
// start-up (~120 ms). The runner sends only programs that touch nothing but the language itself
// (no process, require, timers, promises, eval, ...; see humaneval_x/assembly.js_vm_eligible):
// for those, a context behaves as `node main.js` does.
//
// Protocol (one JSON object per line): in {"file", "out", "err"}; out {"code"}: 0 when the
// program's top level completed, 1 after an uncaught exception (its stack on "err"), as Node exits.
// Anything abnormal (a write that fails or hits the file size limit, an engine crash) ends this
// process instead of answering: the runner then runs that program alone, as `node main.js`.
// Time and memory limits are the runner's: it kills this process on a timeout.
const fs = require('fs');
const vm = require('vm');

const BOOTSTRAP = `(function (hostWrite) {
  'use strict';
  const ObjectKeys = Object.keys, isArray = Array.isArray;
  const quote = (s) => "'" + s.replace(/\\\\/g, '\\\\\\\\').replace(/'/g, "\\\\'").replace(/\\n/g, '\\\\n') + "'";
  function fmt(v, depth, nested) {
    switch (typeof v) {
      case 'string': return nested ? quote(v) : v;
      case 'number': return Object.is(v, -0) ? '-0' : String(v);
      case 'bigint': return String(v) + 'n';
      case 'symbol': return v.toString();
      case 'undefined': return 'undefined';
      case 'boolean': return String(v);
      case 'function': return '[Function: ' + (v.name || '(anonymous)') + ']';
    }
    if (v === null) return 'null';
    if (v instanceof Error) return String(v.stack || v);
    if (depth > 2) return isArray(v) ? '[Array]' : '[Object]';
    if (isArray(v)) {
      if (v.length === 0) return '[]';
      const items = [];
      for (let i = 0; i < v.length && i < 100; i++) items.push(fmt(v[i], depth + 1, true));
      if (v.length > 100) items.push('... ' + (v.length - 100) + ' more items');
      return '[ ' + items.join(', ') + ' ]';
    }
    if (v instanceof Map) return 'Map(' + v.size + ') { ' + [...v].map(([k, x]) => fmt(k, depth + 1, true) + ' => ' + fmt(x, depth + 1, true)).join(', ') + ' }';
    if (v instanceof Set) return 'Set(' + v.size + ') { ' + [...v].map((x) => fmt(x, depth + 1, true)).join(', ') + ' }';
    const keys = ObjectKeys(v);
    if (keys.length === 0) return '{}';
    return '{ ' + keys.map((k) => k + ': ' + fmt(v[k], depth + 1, true)).join(', ') + ' }';
  }
  function format(args) {
    let i = 0, head = null;
    if (typeof args[0] === 'string' && args[0].includes('%')) {
      i = 1;
      head = args[0].replace(/%[sdifjoOc%]/g, (m) => {
        if (m === '%%') return '%';
        if (i >= args.length) return m;
        const a = args[i++];
        if (m === '%d' || m === '%i') return typeof a === 'bigint' ? a + 'n' : String(m === '%i' ? parseInt(a) : Number(a));
        if (m === '%f') return String(parseFloat(a));
        if (m === '%j') return JSON.stringify(a);
        if (m === '%c') return '';
        return fmt(a, 0, m !== '%s');
      });
    }
    const rest = [];
    for (; i < args.length; i++) rest.push(fmt(args[i], 0, false));
    return (head === null ? rest : [head].concat(rest)).join(' ') + '\\n';
  }
  const out = (...args) => { hostWrite(1, format(args)); };
  const err = (...args) => { hostWrite(2, format(args)); };
  const console = Object.freeze({ log: out, info: out, debug: out, error: err, warn: err });
  const stream = (fd) => Object.freeze({ write(s) { hostWrite(fd, typeof s === 'string' ? s : String(s)); return true; } });
  Object.defineProperty(globalThis, 'console', { value: console, writable: true, configurable: true });
  // only the harness's last line uses it (programs that name process run as node main.js)
  Object.defineProperty(globalThis, 'process', { value: Object.freeze({ stdout: stream(1), stderr: stream(2) }),
                                                 writable: true, configurable: true });
  return function run(fn, file) {
    const module = { exports: {} };
    const require = () => { throw new Error('require is not available here'); };
    try {
      fn.call(module.exports, module.exports, require, module, file, file.replace(/\\/[^/]*$/, ''));
      return null;
    } catch (e) {
      try {
        if (!(e instanceof Error && typeof e.stack === 'string')) return 'Uncaught ' + fmt(e, 0, true) + '\\n';
        const lines = e.stack.split('\\n');  // the frames below the program are the worker's
        const own = lines.findIndex((l) => l.includes('(evalmachine.<anonymous>'));
        return (own > 0 ? lines.slice(0, own) : lines).join('\\n') + '\\n';
      } catch (_) {
        return 'Uncaught exception\\n';
      }
    }
  };
})`;

const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];
let fds = [null, null, null];

function hostWrite(fd, s) {
  if (typeof s !== 'string' || (fd !== 1 && fd !== 2)) return;
  try {
    const buf = Buffer.from(s, 'utf8');
    let off = 0;
    while (off < buf.length) {
      const n = fs.writeSync(fds[fd], buf, off, buf.length - off);
      if (n <= 0) throw new Error('short write');
      off += n;
    }
  } catch (e) {
    process.exit(97);  // e.g. the file size limit: let the runner run this program alone
  }
}

function runProgram(req) {
  fds[1] = fs.openSync(req.out, 'w');
  fds[2] = fs.openSync(req.err, 'w');
  try {
    const source = fs.readFileSync(req.file, 'utf8');
    const context = vm.createContext({});
    const run = vm.runInContext(BOOTSTRAP, context)(hostWrite);
    let fn;
    try {
      fn = vm.compileFunction(source, PARAMS, { parsingContext: context, filename: req.file });
    } catch (e) {  // a syntax error: Node reports it and exits 1
      hostWrite(2, String(e && e.stack || e) + '\n');
      return 1;
    }
    const failure = run(fn, req.file);
    if (failure === null) return 0;
    hostWrite(2, String(failure));
    return 1;
  } finally {
    fs.closeSync(fds[1]);
    fs.closeSync(fds[2]);
    fds = [null, null, null];
  }
}

function main() {
  const chunk = Buffer.alloc(65536);
  let pending = '';
  fs.writeSync(1, JSON.stringify({ ready: true }) + '\n');
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return;
    pending += chunk.toString('utf8', 0, n);
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      const code = runProgram(JSON.parse(line));
      fs.writeSync(1, JSON.stringify({ code }) + '\n');
    }
  }
}

main();
