'use strict';
// A V8 startup snapshot of Node's own bootstrap, built into the image (see the Dockerfile).
// Debian's node is built without one (process.config.variables.node_use_node_snapshot is false),
// so a plain `node main.js` bootstraps Node's internals from source: about 60 ms of CPU per program.
// `node --snapshot-blob /opt/hx/node.blob main.js` starts from the bootstrapped heap instead and then
// runs main.js exactly as `node main.js` would: in a process of its own, as Node's main module
// (require.main === module, the same Module._compile frames in its stack). Nothing of a program is in
// the snapshot, and nothing secret: it is built before any program exists.
require('v8').startupSnapshot.setDeserializeMainFunction(() => {
  process.chdir('.');  // the snapshot keeps the build's working directory cached: read it afresh
  const warn = process.emitWarning;  // "module is not yet supported in user snapshots": not the program's
  process.emitWarning = () => {};
  const Module = require('module');
  process.emitWarning = warn;
  // the snapshot's own flag is not the program's: a child started with process.execArgv is a plain node
  const at = process.execArgv.findIndex((a) => a === '--snapshot-blob' || a.startsWith('--snapshot-blob='));
  if (at >= 0) process.execArgv.splice(at, process.execArgv[at].includes('=') ? 1 : 2);
  const file = require('path').resolve(process.argv[1]);
  process.argv[1] = file;
  Module.runMain(file);
});
