'use strict';
// sockerr's runtime client for Node.js: net.Socket with default options and with
// allowHalfOpen: true.
//
// Speaks the line protocol of runtimes/README.md on standard input and output: one JSON
// request per line in, one JSON observation per line out, one session per process, in the
// process's own network namespace (plain JavaScript can enter no other). Node's socket calls
// are asynchronous: a step waits, up to the limit, for what settles it (the write callback,
// the 'connect', 'data', 'end', 'error' or 'close' event), and every event the socket emitted
// since the previous observation is listed in order in `events`, so an 'error' that arrives
// between two steps is not lost.

const net = require('net');
const readline = require('readline');

// Every blocking call is bounded, like the harness's own calls (BLOCKING_CALL_LIMIT).
const LIMIT_MS = 10000;

const APIS = {
  'node.net': {},
  'node.net.allowHalfOpen': { allowHalfOpen: true },
};

class Unsupported extends Error {}

let options = null;
let socket = null;
let events = [];
let inbox = [];
let ended = false;
let closed = false;
// The last 'error' event's error until a step reports it as its outcome: an error that
// arrived between two steps is the outcome of the next step that would have seen it.
let pending = null;
let wake = null;

function note(text) {
  events.push(text);
  if (wake) wake();
}

function describe(err) {
  const fields = {};
  for (const key of ['syscall', 'address', 'port']) {
    if (err[key] !== undefined) fields[key] = err[key];
  }
  return {
    outcome: 'error',
    type: err.constructor && err.constructor.name !== 'Error' ? err.constructor.name : err.name || 'Error',
    message: err.message,
    code: err.code === undefined ? null : String(err.code),
    errno: typeof err.errno === 'number' ? err.errno : null,
    fields,
  };
}

function watch(s) {
  s.on('connect', () => note('connect'));
  s.on('data', (chunk) => {
    inbox.push(chunk);
    note(`data ${chunk.length}`);
  });
  s.on('end', () => {
    ended = true;
    note('end');
  });
  s.on('error', (err) => {
    pending = err;
    note(`error ${err.code || err.name}: ${err.message}`);
  });
  s.on('close', (hadError) => {
    closed = true;
    note(`close hadError=${hadError}`);
  });
}

// Resolves once `settled()` is true (checked after every event), or after the limit.
function until(settled) {
  return new Promise((resolve) => {
    const check = () => {
      if (settled()) {
        clearTimeout(timer);
        wake = null;
        // What the settling event sets off (a 'close' after an 'error': the handle closes in
        // the loop's close phase) belongs to this step too: two more turns of the loop.
        setImmediate(() => setImmediate(() => resolve(true)));
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      wake = null;
      resolve(false);
    }, LIMIT_MS);
    wake = check;
    check();
  });
}

function unsettled(what) {
  return new Error(`no ${what} within ${LIMIT_MS} ms`);
}

function takePending() {
  const err = pending;
  pending = null;
  return err;
}

async function step(req) {
  switch (req.op) {
    case 'connect': {
      socket = new net.Socket(options);
      watch(socket);
      socket.connect({ host: req.host, port: req.port });
      await until(() => !socket.connecting || pending || closed);
      if (pending) throw takePending();
      if (socket.connecting) throw unsettled("'connect' event");
      return null;
    }
    case 'read': {
      await until(() => inbox.length > 0 || ended || pending || closed);
      if (inbox.length > 0) {
        const all = Buffer.concat(inbox);
        inbox = all.length > req.len ? [all.subarray(req.len)] : [];
        return Math.min(all.length, req.len);
      }
      if (pending) throw takePending();
      if (ended || closed) return 0;
      throw unsettled("'data' or 'end' event");
    }
    case 'write': {
      let done = false;
      let callbackError = null;
      const accepted = socket.write(Buffer.alloc(req.len, 'x'), (err) => {
        done = true;
        callbackError = err || null;
        note(err ? `write callback ${err.code || err.name}: ${err.message}` : 'write callback');
      });
      await until(() => done);
      if (callbackError) throw callbackError;
      if (!done) throw unsettled('write callback');
      return accepted;
    }
    case 'shutdown': {
      if (req.how !== 'write') throw new Unsupported('net.Socket has end() (SHUT_WR) only');
      let done = false;
      socket.end(() => {
        done = true;
        note('end callback');
      });
      await until(() => done || pending || closed);
      if (pending) throw takePending();
      return null;
    }
    case 'so_error':
      throw new Unsupported('net.Socket exposes no SO_ERROR');
    case 'getpeername':
      return socket.remoteAddress === undefined ? null : `${socket.remoteAddress}:${socket.remotePort}`;
    case 'set_nodelay':
      socket.setNoDelay(req.on);
      return null;
    case 'set_keepalive':
      socket.setKeepAlive(req.on);
      return null;
    case 'close': {
      socket.destroy();
      await until(() => closed);
      return null;
    }
    default:
      throw new Unsupported(`no step '${req.op}' in the protocol`);
  }
}

function fd() {
  const handle = socket && !socket.destroyed ? socket._handle : null;
  return handle && typeof handle.fd === 'number' && handle.fd >= 0 ? handle.fd : null;
}

async function answer(req) {
  if (req.op === 'hello') {
    if (req.netns) throw new Unsupported('Node.js cannot enter another network namespace: run the client in it');
    if (!(req.api in APIS)) throw new Unsupported(`no API '${req.api}' here; this client serves ${Object.keys(APIS)}`);
    options = APIS[req.api];
    return { outcome: 'ok', runtime: `Node.js ${process.version}`, pid: process.pid };
  }
  if (options === null) throw new Unsupported('the session has not said hello');
  if (req.op !== 'connect' && socket === null) throw new Unsupported('no socket: connect first');
  return { outcome: 'ok', value: await step(req) };
}

async function main() {
  if (process.argv[2] !== 'stdio') {
    process.stderr.write('usage: sockerr_client.js stdio\n');
    process.exit(2);
  }
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const req = JSON.parse(line);
    if (req.op === 'bye') {
      if (socket && !closed) {
        socket.destroy();
        await until(() => closed);
      }
      process.stdout.write(JSON.stringify({ outcome: 'ok', events, fd: null }) + '\n');
      break;
    }
    let observation;
    try {
      observation = await answer(req);
    } catch (err) {
      observation = err instanceof Unsupported ? { outcome: 'unsupported', why: err.message } : describe(err);
    }
    observation.events = events;
    events = [];
    observation.fd = fd();
    process.stdout.write(JSON.stringify(observation) + '\n');
  }
  if (socket) socket.destroy();
  process.exit(0);
}

main();
