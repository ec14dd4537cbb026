// Tributary Node.js runtime bootstrap.
//
// The equivalent of AWS's Node.js runtime interface client: it loads the function
// named by _HANDLER from LAMBDA_TASK_ROOT, then loops on the Lambda Runtime API
// (http://$AWS_LAMBDA_RUNTIME_API/2018-06-01), fetching one event at a time,
// calling handler(event, context, callback) and posting the result or error back.
// Node's standard library only (Node 20+); started as `node bootstrap.mjs` with
// the function's code directory as working directory.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import util from 'node:util';
import module, { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const BASE = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
// awslambda.streamifyResponse marks a handler so, as AWS's runtime does.
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';
// Where AWS's runtime keeps the current request id; some libraries read it from there.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const [, HOST, PORT] = /^(.*):(\d+)$/.exec(process.env.AWS_LAMBDA_RUNTIME_API ?? '') ?? [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const NODE_EXIT = 'The Lambda runtime client detected an unexpected Node.js exit code. '
  + 'This is most commonly caused by a Promise that was never settled.';

let current = null; // the invocation in progress: { id, done }
let onDrain = null; // what to do when the event loop empties during an invocation
let initialized = false;
let dying = false;

function request(method, urlPath, body, headers = {}, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: PORT, method, path: BASE + urlPath, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (err) => {
      // A kept-alive connection the server closed while idle fails on reuse; one fresh attempt is safe.
      if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) resolve(request(method, urlPath, body, headers, true));
      else reject(err);
    });
    req.end(body);
  });
}

async function post(urlPath, body, errorType) {
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  // Node refuses non-ASCII header values, and an error name is user-controlled.
  if (errorType !== undefined) headers[ERROR_TYPE_HEADER] = String(errorType).replace(/[^\x20-\x7e]/g, '');
  try {
    const res = await request('POST', urlPath, body, headers);
    if (res.status >= 300) process.stderr.write(`bootstrap: POST ${urlPath} returned ${res.status}: ${res.body.slice(0, 500)}\n`);
  } catch (err) {
    // Only this result is lost (e.g. an oversized response cut off); the next /next decides whether to go on.
    process.stderr.write(`bootstrap: POST ${urlPath} failed: ${err.message}\n`);
  }
}

function runtimeError(type, message) {
  // The name sits on the prototype, as in AWS's runtime, so the stack's first line carries it too.
  class RuntimeError extends Error {}
  RuntimeError.prototype.name = type;
  return new RuntimeError(message);
}

const str = (value) => { try { return String(value); } catch { return util.inspect(value); } };

// The body AWS posts for an error; thrown non-Errors become { errorType: typeof value, ... }.
function toRapid(err) {
  try {
    const errorLike = err && typeof err.name === 'string' && typeof err.message === 'string' && typeof err.stack === 'string';
    if (util.types.isNativeError(err) || errorLike) {
      return { errorType: err.name || err.constructor?.name, errorMessage: err.message, trace: err.stack.split('\n') };
    }
    return { errorType: typeof err, errorMessage: err.toString(), trace: [] };
  } catch {
    const errorMessage = 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';
    return { errorType: 'handled', errorMessage, trace: [] };
  }
}

// AWS's log form of an error: a tab, then name, message, code, own properties and the stack as lines.
function formatted(err) {
  const error = err instanceof Error ? err : new Error(str(err));
  try {
    return '\t' + JSON.stringify(error, (key, v) => (!(v instanceof Error) ? v : {
      errorType: v.name, errorMessage: v.message, code: v.code, ...v,
      stack: typeof v.stack === 'string' ? v.stack.split('\n') : v.stack,
    }));
  } catch {
    return '\t' + JSON.stringify(toRapid(error));
  }
}

const JSON_FORMAT = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';

// In JSON format AWS's runtime logs the error itself, as one JSON line's message.
const logError = (label, err) => (JSON_FORMAT
  ? console.error(err instanceof Error ? err : new Error(str(err)))
  : console.error(label, formatted(err)));

// An Error inside a JSON log line, as AWS's runtime writes it.
const jsonErrorReplacer = (_, value) => (!(value instanceof Error) ? value : {
  errorType: value?.constructor?.name ?? 'UnknownError',
  errorMessage: value.message,
  stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
  ...value,
});

// AWS's JSON log line: one argument is the message as it is (objects stay objects), several are formatted.
function jsonLine(level, params) {
  const result = { timestamp: new Date().toISOString(), level, requestId: globalThis[REQUEST_ID] };
  if (params.length === 1) {
    result.message = params[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...params);
  const error = params.find((p) => p instanceof Error);
  if (error) {
    result.errorType = error?.constructor?.name ?? 'UnknownError';
    result.errorMessage = error.message;
    result.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  }
  return JSON.stringify(result);
}

const postError = (urlPath, err) => {
  const rapid = toRapid(err);
  return post(urlPath, JSON.stringify(rapid), rapid.errorType);
};

function patchConsole() {
  const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  const min = Math.max(0, levels.indexOf(process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()));
  const methods = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', log: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' };
  for (const [method, level] of Object.entries(methods)) {
    const rank = levels.indexOf(level);
    const stream = rank >= 3 ? process.stderr : process.stdout;
    // JSON lines all go to stdout, as in AWS's runtime; JSON.stringify keeps a multi-line message on one line.
    console[method] = rank < min ? () => {} : JSON_FORMAT
      ? (...args) => process.stdout.write(`${jsonLine(level, args)}\n`)
      : (...args) => {
        stream.write(`${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(...args)}\n`);
      };
  }
}

function isTypeModule(dir) {
  for (;;) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try { return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module'; } catch { return false; }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

// Resolution as AWS: <module>, <module>.js (CommonJS unless "type": "module"), .mjs, .cjs, then node_modules.
async function loadModule(appRoot, moduleRoot, name) {
  const base = path.resolve(appRoot, moduleRoot, name);
  const esm = isTypeModule(path.dirname(base));
  const tryRequire = (file) => (fs.existsSync(file) ? require(file) : undefined);
  const tryImport = async (file) => (fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined);
  return tryRequire(base)
    ?? (esm ? await tryImport(`${base}.js`) : tryRequire(`${base}.js`))
    ?? await tryImport(`${base}.mjs`)
    ?? tryRequire(`${base}.cjs`)
    ?? require(require.resolve(name, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullName) {
  if (fullName.includes('..')) {
    throw runtimeError('Runtime.MalformedHandlerName', `'${fullName}' is not a valid handler name. `
      + 'Use absolute paths when specifying root directories in handler names.');
  }
  const moduleAndPath = path.basename(fullName);
  const moduleRoot = fullName.slice(0, fullName.lastIndexOf(moduleAndPath));
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndPath);
  if (!match) throw runtimeError('Runtime.MalformedHandlerName', 'Bad handler');
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, match[1]);
  } catch (err) {
    if (err instanceof SyntaxError) {
      const wrapped = runtimeError('Runtime.UserCodeSyntaxError', str(err));
      wrapped.stack = err.stack; // the original stack names the file and line
      throw wrapped;
    }
    if (['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND'].includes(err?.code)) throw runtimeError('Runtime.ImportModuleError', str(err));
    throw err;
  }
  const fn = match[2].split('.').reduce((obj, key) => obj && obj[key], app);
  if (!fn) throw runtimeError('Runtime.HandlerNotFound', `${fullName} is undefined or not exported`);
  if (typeof fn !== 'function') throw runtimeError('Runtime.HandlerNotFound', `${fullName} is not a function`);
  return fn;
}

function parseHeaderJson(value, what) {
  if (value === undefined) return undefined;
  try { return JSON.parse(value); } catch (err) { throw new Error(`Cannot parse ${what} as json: ${err}`); }
}

async function report(id, err, result) {
  const urlPath = `/invocation/${encodeURIComponent(id)}`;
  if (err === undefined || err === null) {
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result) ?? 'null';
    } catch {
      // AWS's current runtime names this error so; its older one sent a plain Error with the same message.
      err = runtimeError('Runtime.JSONStringifyError', 'Unable to stringify response body');
    }
    if (body !== undefined) return post(`${urlPath}/response`, body);
  }
  logError('Invoke Error', err);
  return postError(`${urlPath}/error`, err);
}

// AWS's HttpResponseStream: status, headers and cookies go first, as JSON ended by 8 NUL bytes.
class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

function installAwsLambdaGlobal() {
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[HANDLER_STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark, 10);
      return handler;
    },
    HttpResponseStream,
  };
}

// The response of a streaming handler: a chunked POST to the Runtime API, its headers sent at the
// first write (so setContentType works until then), an error in its trailers, as AWS's runtime sends it.
function responseStream(id, highWaterMark) {
  let answered;
  const done = new Promise((resolve) => { answered = resolve; });
  const req = http.request({
    host: HOST, port: PORT, method: 'POST', path: `${BASE}/invocation/${encodeURIComponent(id)}/response`, agent,
    highWaterMark,
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Content-Type': 'application/octet-stream',
      'Transfer-Encoding': 'chunked',
      Trailer: [ERROR_TYPE_HEADER, ERROR_BODY_TRAILER],
    },
  }, (res) => {
    res.resume();
    res.on('end', () => answered(res.statusCode));
  });
  req.on('error', (err) => {
    process.stderr.write(`bootstrap: the response stream failed: ${err.message}\n`);
    answered(0);
  });
  const write = req.write.bind(req);
  const end = req.end.bind(req);
  let first = true;
  req.write = (chunk, encoding, callback) => {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && !(chunk instanceof Uint8Array)) chunk = JSON.stringify(chunk);
    if (first) {
      first = false;
      req._onBeforeFirstWrite?.((data) => write(data));
    }
    return write(chunk, encoding, callback);
  };
  // end(data) writes data as write() does, so a prelude set with HttpResponseStream.from goes first.
  req.end = (chunk, encoding, callback) => {
    if (typeof chunk === 'function') return end(chunk);
    if (chunk !== undefined && chunk !== null) req.write(chunk, typeof encoding === 'string' ? encoding : undefined);
    else if (first) {
      first = false;
      req._onBeforeFirstWrite?.((data) => write(data));
    }
    return end(typeof encoding === 'function' ? encoding : callback);
  };
  req.setContentType = (type) => {
    if (!first || req.headersSent) throw runtimeError('Runtime.InvalidStreamingOperation', 'Cannot set content-type, too late.');
    req.setHeader('Content-Type', type);
  };
  req.fail = (err) => {
    const rapid = toRapid(err);
    if (first) {
      first = false;
      req._onBeforeFirstWrite?.((data) => write(data));
    }
    req.addTrailers({
      [ERROR_TYPE_HEADER]: String(rapid.errorType).replace(/[^\x20-\x7e]/g, ''),
      [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(rapid)).toString('base64'),
    });
    end();
  };
  req.answered = done;
  return req;
}

function contextOf(h, id, extras) {
  const deadline = Number(h['lambda-runtime-deadline-ms']);
  // Defined, not spread: callbackWaitsForEmptyEventLoop is a getter and setter pair.
  const context = Object.defineProperties({}, Object.getOwnPropertyDescriptors(extras));
  return Object.assign(context, {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: id,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parseHeaderJson(h['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    clientContext: parseHeaderJson(h['lambda-runtime-client-context'], 'ClientContext'),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  });
}

function begin(h) {
  const id = h['lambda-runtime-aws-request-id'];
  globalThis[REQUEST_ID] = id;
  if (h['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;
  return id;
}

// A handler wrapped in awslambda.streamifyResponse: (event, responseStream, context), async; what it
// returns is ignored; the invocation ends when the Runtime API has the whole stream.
async function invokeStreaming(handler, { headers: h, body }) {
  const id = begin(h);
  const invocation = current = { id, done: false };
  const stream = responseStream(id, handler[HANDLER_HIGHWATERMARK]);
  try {
    const event = body ? JSON.parse(body) : null;
    const result = handler(event, stream, contextOf(h, id, {}));
    if (!result || typeof result.then !== 'function') {
      throw runtimeError('Runtime.InvalidStreamingOperation', 'Streaming does not support non-async handlers.');
    }
    if (await result !== undefined) console.warn('Streaming handlers ignore return values.');
  } catch (err) {
    logError('Invoke Error', err);
    stream.fail(err);
  }
  await stream.answered;
  invocation.done = true;
}

function invoke(handler, { headers: h, body }) {
  const id = begin(h);
  const invocation = current = { id, done: false };

  return new Promise((resolve) => {
    const finish = (err, result) => {
      if (invocation.done) return;
      invocation.done = true;
      onDrain = null;
      report(id, err, result).then(resolve);
    };
    // As AWS: only the first of callback / succeed / fail / done / the promise counts.
    let called = false;
    const once = (fn) => (...args) => { if (!called) { called = true; fn(...args); } };
    let waits = true;
    const callback = once((err, result) => {
      if (err !== undefined && err !== null) finish(err);
      else if (!waits) finish(null, result);
      else onDrain = () => finish(null, result); // callbackWaitsForEmptyEventLoop: answer once nothing is left to run
    });
    const succeed = once((result) => finish(null, result));
    const fail = once((err) => finish(err ?? 'handled'));
    let returnedPromise = false;
    // The loop emptied with nothing reported: AWS answers null, or fails an async handler's unsettled promise.
    onDrain = () => finish(returnedPromise ? runtimeError('Runtime.NodeJsExit', NODE_EXIT) : null, null);
    try {
      const context = contextOf(h, id, {
        get callbackWaitsForEmptyEventLoop() { return waits; },
        set callbackWaitsForEmptyEventLoop(value) { waits = value; },
        succeed,
        fail,
        done: once((err, result) => finish(err, result)),
      });
      const result = handler(body ? JSON.parse(body) : null, context, callback);
      if (result && typeof result.then === 'function') {
        returnedPromise = true;
        result.then(succeed, fail);
      }
    } catch (err) {
      callback(err);
    }
  });
}

// Outside the handler's reach: report against the invocation in progress (or init), then exit as AWS does.
async function fatal(label, err, status) {
  if (dying) return;
  dying = true;
  logError(label, err);
  if (current && !current.done) {
    current.done = true;
    await postError(`/invocation/${encodeURIComponent(current.id)}/error`, err);
  } else if (!initialized) {
    await postError('/init/error', err);
  }
  process.exit(status);
}

// AWS's Node.js 18+ runtimes search NODE_PATH's folders for ES module imports too (Node itself
// only does for require): an ES module handler imports a layer's packages by bare name. Each
// node_modules folder of NODE_PATH is tried as if imported from a file beside it, once the usual
// resolution has found nothing. Only functions with such folders (layers) get the hook: Node 22.15+
// runs it in-thread at no measurable cost; older Nodes run hooks in a thread of their own, about 45 ms
// more per cold start.
// Specifiers that are not bare names: relative, absolute, package imports (#) and URLs (node:, file:).
const NOT_BARE = /^(\.|\/|#)|^[a-zA-Z][a-zA-Z\d+.-]*:/;
const LAYER_RESOLVE = `
let parents = [];
export async function initialize(data) { parents = data.parents; }
export async function resolve(specifier, context, nextResolve) {
  try { return await nextResolve(specifier, context); } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || ${NOT_BARE}.test(specifier)) throw err;
    for (const parentURL of parents) {
      try { return await nextResolve(specifier, { ...context, parentURL }); } catch {}
    }
    throw err;
  }
}`;

function searchNodePathOnImport() {
  const parents = (process.env.NODE_PATH ?? '').split(path.delimiter)
    .filter((dir) => path.basename(dir) === 'node_modules' && fs.existsSync(dir))
    .map((dir) => pathToFileURL(path.join(path.dirname(dir), 'index.mjs')).href);
  if (parents.length === 0) return;
  if (module.registerHooks) {
    module.registerHooks({
      resolve(specifier, context, nextResolve) {
        try { return nextResolve(specifier, context); } catch (err) {
          if (err?.code !== 'ERR_MODULE_NOT_FOUND' || NOT_BARE.test(specifier)) throw err;
          for (const parentURL of parents) {
            try { return nextResolve(specifier, { ...context, parentURL }); } catch { /* the next folder */ }
          }
          throw err;
        }
      },
    });
  } else {
    module.register(`data:text/javascript,${encodeURIComponent(LAYER_RESOLVE)}`, { data: { parents } });
  }
}

async function main() {
  patchConsole();
  searchNodePathOnImport();
  process.on('uncaughtException', (err) => fatal('Uncaught Exception', err, 129));
  process.on('unhandledRejection', (reason, promise) => {
    const err = Object.assign(runtimeError('Runtime.UnhandledPromiseRejection', str(reason)), { reason: str(reason), promise });
    fatal('Unhandled Promise Rejection', err, 128);
  });
  process.on('beforeExit', () => {
    const run = onDrain;
    onDrain = null;
    run?.();
  });

  installAwsLambdaGlobal();
  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER ?? '');
  } catch (err) {
    dying = true;
    logError('Uncaught Exception', err);
    await postError('/init/error', err);
    process.exit(1);
  }
  initialized = true;

  while (!dying) {
    const next = await request('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`GET /invocation/next returned ${next.status}: ${next.body.slice(0, 500)}`);
    if (handler[HANDLER_STREAMING] === 'response') await invokeStreaming(handler, next);
    else await invoke(handler, next);
  }
}

main().catch((err) => {
  process.stderr.write(`bootstrap: Runtime API failure: ${err?.stack ?? err}\n`);
  process.exit(1);
});
