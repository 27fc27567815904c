'use strict';
// sockerr's runtime client for Node.js: net.Socket with default options and with
// allowHalfOpen: true.
//
// Speaks the line protocol of runtimes/README.md: one JSON request in, one JSON observation
// out. `stdio` serves one session on standard input and output, in the process's own network
// namespace. `ipc` is long-lived: it serves many sessions over the IPC channel its parent
// opened (NODE_CHANNEL_FD), each message `{"session": N, "req": {...}}` answered
// `{"session": N, "answer": {...}}`. Plain JavaScript cannot enter another namespace, so in
// `ipc` mode the `connect` request comes with a socket the harness created in the trial's
// namespace (as libuv would have: AF_INET or AF_INET6, non-blocking, close-on-exec, no
// option set), passed as a handle (SCM_RIGHTS); the client wraps it in its net.Socket and
// connects it: the connect(2) and everything after it are Node's own.
//
// Node's socket calls are asynchronous: a step waits, up to the limit, for what settles it
// (the write callback, the 'connect', 'data', 'end', 'error' or 'close' event), and every
// event the socket emitted since the previous observation is listed in order in `events`, so
// an 'error' that arrives between two steps is not lost.

const net = require('net');
const readline = require('readline');

// Every blocking call is bounded, like the harness's own calls (BLOCKING_CALL_LIMIT).
const LIMIT_MS = 10000;

const APIS = {
  'node.net': {},
  'node.net.allowHalfOpen': { allowHalfOpen: true },
};

class Unsupported extends Error {}

function describe(err) {
  const fields = {};
  for (const key of ['syscall', 'address', 'port', 'limit']) {
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

// The client's own limit, not an error of Node's: `fields.limit` says so.
function unsettled(what) {
  const err = new Error(`no ${what} within ${LIMIT_MS} ms`);
  err.limit = `the client's ${LIMIT_MS} ms limit ended the step; Node.js reported nothing`;
  return err;
}

// One socket's life, and what its events told.
class Session {
  constructor() {
    this.options = null;
    this.socket = null;
    this.events = [];
    this.inbox = [];
    this.ended = false;
    this.closed = false;
    // The last 'error' event's error until a step reports it as its outcome: an error that
    // arrived between two steps is the outcome of the next step that would have seen it.
    this.pending = null;
    this.wake = null;
  }

  note(text) {
    this.events.push(text);
    if (this.wake) this.wake();
  }

  watch(s) {
    s.on('connect', () => this.note('connect'));
    s.on('data', (chunk) => {
      this.inbox.push(chunk);
      this.note(`data ${chunk.length}`);
    });
    s.on('end', () => {
      this.ended = true;
      this.note('end');
    });
    s.on('error', (err) => {
      this.pending = err;
      this.note(`error ${err.code || err.name}: ${err.message}`);
    });
    s.on('close', (hadError) => {
      this.closed = true;
      this.note(`close hadError=${hadError}`);
    });
  }

  takePending() {
    const err = this.pending;
    this.pending = null;
    return err;
  }

  // Resolves once `settled()` is true (checked after every event), or after the limit.
  until(settled) {
    return new Promise((resolve) => {
      const check = () => {
        if (!settled()) return false;
        clearTimeout(timer);
        this.wake = null;
        // What the settling event sets off (a 'close' after an 'error': the handle closes in
        // the loop's close phase) belongs to this step too: two more turns of the loop.
        setImmediate(() => setImmediate(() => resolve(true)));
        return true;
      };
      const timer = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, LIMIT_MS);
      this.wake = check;
      check();
    });
  }

  async step(req, handle) {
    switch (req.op) {
      case 'connect': {
        const options = handle ? { ...this.options, handle, manualStart: true } : this.options;
        this.socket = new net.Socket(options);
        this.watch(this.socket);
        this.socket.connect({ host: req.host, port: req.port });
        await this.until(() => !this.socket.connecting || this.pending || this.closed);
        if (this.pending) throw this.takePending();
        if (this.socket.connecting) throw unsettled("'connect' event");
        return null;
      }
      case 'read': {
        await this.until(() => this.inbox.length > 0 || this.ended || this.pending || this.closed);
        if (this.inbox.length > 0) {
          const all = Buffer.concat(this.inbox);
          this.inbox = all.length > req.len ? [all.subarray(req.len)] : [];
          return Math.min(all.length, req.len);
        }
        if (this.pending) throw this.takePending();
        if (this.ended || this.closed) return 0;
        throw unsettled("'data' or 'end' event");
      }
      case 'write': {
        let done = false;
        let callbackError = null;
        const accepted = this.socket.write(Buffer.alloc(req.len, 'x'), (err) => {
          done = true;
          callbackError = err || null;
          this.note(err ? `write callback ${err.code || err.name}: ${err.message}` : 'write callback');
        });
        await this.until(() => done);
        if (callbackError) throw callbackError;
        if (!done) throw unsettled('write callback');
        return accepted;
      }
      case 'shutdown': {
        if (req.how !== 'write') throw new Unsupported('net.Socket has end() (SHUT_WR) only');
        let done = false;
        this.socket.end(() => {
          done = true;
          this.note('end callback');
        });
        await this.until(() => done || this.pending || this.closed);
        if (this.pending) throw this.takePending();
        return null;
      }
      case 'so_error':
        throw new Unsupported('net.Socket exposes no SO_ERROR');
      case 'getpeername':
        return this.socket.remoteAddress === undefined ? null : `${this.socket.remoteAddress}:${this.socket.remotePort}`;
      case 'set_nodelay':
        this.socket.setNoDelay(req.on);
        return null;
      case 'set_keepalive':
        this.socket.setKeepAlive(req.on);
        return null;
      case 'close':
        this.socket.destroy();
        await this.until(() => this.closed);
        return null;
      default:
        throw new Unsupported(`no step '${req.op}' in the protocol`);
    }
  }

  fd() {
    const handle = this.socket && !this.socket.destroyed ? this.socket._handle : null;
    return handle && typeof handle.fd === 'number' && handle.fd >= 0 ? handle.fd : null;
  }

  async answer(req, handle) {
    if (req.op === 'hello') {
      if (req.netns) throw new Unsupported('Node.js cannot enter another network namespace: run the client in it');
      if (!(req.api in APIS)) throw new Unsupported(`no API '${req.api}' here; this client serves ${Object.keys(APIS)}`);
      this.options = APIS[req.api];
      return { outcome: 'ok', runtime: `Node.js ${process.version}`, pid: process.pid };
    }
    if (this.options === null) throw new Unsupported('the session has not said hello');
    if (req.op !== 'connect' && this.socket === null) throw new Unsupported('no socket: connect first');
    return { outcome: 'ok', value: await this.step(req, handle) };
  }

  // One request's observation. `bye` closes what is open and is answered `ok`.
  async observe(req, handle) {
    // What events already under way set off (a 'close' after an 'error' that arrived between
    // steps: the handle closes in the loop's close phase) happens before the step, not amid it.
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    let observation;
    if (req.op === 'bye') {
      if (this.socket && !this.closed) {
        this.socket.destroy();
        await this.until(() => this.closed);
      }
      observation = { outcome: 'ok' };
    } else {
      try {
        observation = await this.answer(req, handle);
      } catch (err) {
        observation = err instanceof Unsupported ? { outcome: 'unsupported', why: err.message } : describe(err);
      }
    }
    observation.events = this.events;
    this.events = [];
    observation.fd = req.op === 'bye' ? null : this.fd();
    return observation;
  }
}

async function stdio() {
  const session = new Session();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const req = JSON.parse(line);
    process.stdout.write(JSON.stringify(await session.observe(req, undefined)) + '\n');
    if (req.op === 'bye') break;
  }
  process.exit(0);
}

function ipc() {
  const sessions = new Map();
  process.on('message', async (message, handle) => {
    const id = message.session;
    if (!sessions.has(id)) sessions.set(id, new Session());
    const answer = await sessions.get(id).observe(message.req, handle);
    if (message.req.op === 'bye') sessions.delete(id);
    process.send({ session: id, answer });
  });
  // The harness closes the channel when it ends: so does this process.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}

if (process.argv[2] === 'stdio') {
  stdio();
} else if (process.argv[2] === 'ipc' && process.send) {
  ipc();
} else {
  process.stderr.write('usage: sockerr_client.js stdio | ipc (with NODE_CHANNEL_FD set)\n');
  process.exit(2);
}
