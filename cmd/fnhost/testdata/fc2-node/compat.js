#!/usr/bin/env node
// FC Node.js SDK compatibility check for fnhost.
//
// Drives an fnhost server with the unchanged Alibaba Cloud Function Compute
// Node.js SDK (@alicloud/fc2, version pinned in package.json): management
// API (services, functions, triggers), InvokeFunction, and HTTP-trigger calls
// signed by the SDK, plus raw unsigned / badly signed calls made with
// node:http. Plain Node, no test framework: one line per step ("ok <step>",
// "skip <step>"), and on the first failure "FAIL <step>: ..." with what was
// expected and what came back, a best-effort cleanup, and exit code 1.
// Exit code 0 means every step that was not skipped passed.
//
// Usage (after `npm ci` in this directory):
//
//   FC_ENDPOINT=http://127.0.0.1:9123 FC_ACCOUNT_ID=123 \
//   FC_ACCESS_KEY_ID=id FC_ACCESS_KEY_SECRET=secret \
//   FC_ZIP_FILE=/path/to/echo.zip node compat.js
//
// Environment:
//   FC_ENDPOINT          required; scheme://host:port, no path (a trailing "/" is removed)
//   FC_ACCOUNT_ID        required; sent by the SDK as x-fc-account-id
//   FC_ACCESS_KEY_ID     required
//   FC_ACCESS_KEY_SECRET required
//   FC_ZIP_FILE          required; a zip holding one .wasm (uploaded as code.zipFile)
//   FC_EXPECT            "echo" (default): the module is an echo guest (echo-go.wasm,
//                        echo-c.wasm) and answers the request as JSON; responses are
//                        checked field by field. "hello": the module answers
//                        "hello world" (hello-c.wasm, hello-go.wasm); only bodies are checked.
//   FC_REGION            optional, default "cn-hangzhou" (the SDK requires one; unused
//                        when an endpoint is given)
//   FC_TIMEOUT_MS        optional, the SDK's per-request timeout, default 30000
//   FC_DEADLINE_MS       optional, the whole run's deadline, default 180000
//   FC_SKIP              optional, comma-separated step names to skip (for server
//                        features not built yet), e.g. "getFunctionCode,invoke-repeat"
//
// Only the SDK and Node built-ins are used.
'use strict';

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const zlib = require('zlib');

// ---------------------------------------------------------------- output

let current = 'setup';
let passed = 0;
let cleanup = null; // set once a service exists

function out(line) {
  process.stdout.write(line + '\n');
}

async function die(step, msg) {
  out(`FAIL ${step}: ${msg}`);
  if (cleanup) {
    const c = cleanup;
    cleanup = null;
    try {
      await c();
    } catch (e) {
      out(`# cleanup failed: ${e.message}`);
    }
  }
  out(`fc2-node compat: FAILED at step ${step} (${passed} steps passed before it)`);
  process.exit(1);
}

process.on('unhandledRejection', (e) => die(current, `unhandled rejection: ${e && e.stack || e}`));
process.on('uncaughtException', (e) => die(current, `uncaught exception: ${e && e.stack || e}`));

// StepError carries an "expected ..., got ..." message.
class StepError extends Error {}

function expect(cond, what, expected, got) {
  if (!cond) {
    throw new StepError(`${what}: expected ${fmt(expected)}, got ${fmt(got)}`);
  }
}

function expectEqual(got, expected, what) {
  try {
    assert.deepStrictEqual(got, expected);
  } catch (e) {
    throw new StepError(`${what}: expected ${fmt(expected)}, got ${fmt(got)}`);
  }
}

function fmt(v) {
  if (Buffer.isBuffer(v)) {
    return `Buffer(${v.length}) ${JSON.stringify(v.toString('utf8').slice(0, 300))}`;
  }
  if (typeof v === 'string') {
    return JSON.stringify(v.length > 600 ? v.slice(0, 600) + '…' : v);
  }
  let s;
  try {
    s = JSON.stringify(v);
  } catch (e) {
    s = String(v);
  }
  if (s === undefined) {
    s = String(v);
  }
  return s.length > 600 ? s.slice(0, 600) + '…' : s;
}

// describeErr turns an SDK or network error into one line.
function describeErr(e) {
  if (!e) {
    return String(e);
  }
  if (e instanceof StepError) {
    return e.message;
  }
  const parts = [];
  if (e.name) parts.push(`name=${e.name}`);
  if (e.code !== undefined) parts.push(`code=${e.code}`);
  parts.push(`message=${JSON.stringify(e.message)}`);
  let s = parts.join(' ');
  if (['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(e.code) ||
      e.name === 'RequestTimeoutError') {
    s = `cannot reach FC_ENDPOINT ${endpoint}: ${s}`;
  }
  return s;
}

const skip = new Set((process.env.FC_SKIP || '').split(',').map((s) => s.trim()).filter(Boolean));

async function step(name, fn) {
  current = name;
  if (skip.has(name)) {
    out(`skip ${name}`);
    return undefined;
  }
  let detail;
  try {
    detail = await fn();
  } catch (e) {
    await die(name, describeErr(e));
  }
  out(`ok ${name}${detail ? ` (${detail})` : ''}`);
  passed++;
  return detail;
}

// ---------------------------------------------------------------- configuration

function env(name, required, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (required) {
      out(`FAIL setup: environment variable ${name} is required`);
      process.exit(1);
    }
    return dflt;
  }
  return v;
}

let endpoint = env('FC_ENDPOINT', true).replace(/\/+$/, '');
const accountID = env('FC_ACCOUNT_ID', true);
const accessKeyID = env('FC_ACCESS_KEY_ID', true);
const accessKeySecret = env('FC_ACCESS_KEY_SECRET', true);
const zipPath = env('FC_ZIP_FILE', true);
const expectMode = env('FC_EXPECT', false, 'echo');
const region = env('FC_REGION', false, 'cn-hangzhou');
const timeoutMs = Number(env('FC_TIMEOUT_MS', false, '30000'));
const deadlineMs = Number(env('FC_DEADLINE_MS', false, '180000'));

if (expectMode !== 'echo' && expectMode !== 'hello') {
  out(`FAIL setup: FC_EXPECT must be "echo" or "hello", got ${JSON.stringify(expectMode)}`);
  process.exit(1);
}
let endpointURL;
try {
  endpointURL = new URL(endpoint);
} catch (e) {
  out(`FAIL setup: FC_ENDPOINT ${JSON.stringify(endpoint)} is not a URL: ${e.message}`);
  process.exit(1);
}
if (!/^https?:$/.test(endpointURL.protocol) || endpointURL.pathname !== '/' || endpointURL.search) {
  // The SDK appends "/2016-08-15/..." to the endpoint but signs only
  // "/2016-08-15/...": a path in the endpoint would break every signature.
  out(`FAIL setup: FC_ENDPOINT must be http(s)://host:port without a path, got ${JSON.stringify(endpoint)}`);
  process.exit(1);
}

setTimeout(() => {
  die(current, `deadline of ${deadlineMs} ms (FC_DEADLINE_MS) passed; the server stopped answering?`);
}, deadlineMs).unref();

let FC;
try {
  FC = require('@alicloud/fc2');
} catch (e) {
  out(`FAIL setup: cannot load @alicloud/fc2 (${e.message}); run \`npm ci\` in ${__dirname}`);
  process.exit(1);
}
const sdkVersion = require('@alicloud/fc2/package.json').version;

function newClient(opts = {}) {
  return new FC(accountID, {
    accessKeyID: opts.accessKeyID || accessKeyID,
    accessKeySecret: opts.accessKeySecret || accessKeySecret,
    region,
    endpoint,
    timeout: timeoutMs,
  });
}

// ---------------------------------------------------------------- zip

// wasmFromZip returns the first .wasm entry of a zip (stored or deflated).
function wasmFromZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new Error('not a zip file (no end of central directory record)');
  }
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) {
      throw new Error('corrupt zip central directory');
    }
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    names.push(name);
    p += 46 + nameLen + extraLen + commentLen;
    if (!name.endsWith('.wasm')) {
      continue;
    }
    if (buf.readUInt32LE(local) !== 0x04034b50) {
      throw new Error(`corrupt zip local header for ${name}`);
    }
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + csize);
    if (method === 0) {
      return { name, wasm: Buffer.from(data) };
    }
    if (method === 8) {
      return { name, wasm: zlib.inflateRawSync(data) };
    }
    throw new Error(`zip entry ${name} uses compression method ${method}; want 0 or 8`);
  }
  throw new Error(`zip holds no .wasm entry (entries: ${names.join(', ') || 'none'})`);
}

// ---------------------------------------------------------------- helpers

function requestID(resp, what) {
  const id = resp && resp.headers && resp.headers['x-fc-request-id'];
  expect(typeof id === 'string' && id !== '', `${what}: response header x-fc-request-id`, 'a non-empty value', id);
  return id;
}

// sdkStatus reads the HTTP status out of an SDK error: the SDK sets only
// err.code (from the body's ErrorCode) and err.name ("FC<ErrorCode>Error");
// the status is in the message "<METHOD> <path> failed with <status>. ...".
function sdkStatus(e) {
  const m = /failed with (\d{3})\./.exec(e && e.message || '');
  return m ? Number(m[1]) : null;
}

// expectReject awaits p, which must reject with an SDK error of the given
// HTTP status (a number or a list) and, when code is set, that ErrorCode.
async function expectReject(p, what, status, code) {
  let resp;
  try {
    resp = await p;
  } catch (e) {
    const got = sdkStatus(e);
    const want = [].concat(status);
    if (!want.includes(got)) {
      throw new StepError(`${what}: expected the SDK to reject with status ${want.join(' or ')}, got ${describeErr(e)}`);
    }
    if (code !== undefined && e.code !== code) {
      throw new StepError(`${what}: expected error code ${fmt(code)} (the SDK reads it from the JSON body's "ErrorCode" member, ` +
        `and only when the response Content-Type starts with "application/json"), got ${describeErr(e)}`);
    }
    return e;
  }
  throw new StepError(`${what}: expected the SDK to reject with status ${[].concat(status).join(' or ')}, ` +
    `but the call succeeded with ${fmt(resp && resp.data)}`);
}

// bodyText returns a response body the SDK handed back (string, Buffer, or
// the object it JSON-parsed) as text.
function bodyText(data) {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (typeof data === 'string') return data;
  return JSON.stringify(data);
}

// echoOf parses an echo guest's answer as the SDK returned it.
function echoOf(data, what) {
  let obj = data;
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    try {
      obj = JSON.parse(data.toString());
    } catch (e) {
      throw new StepError(`${what}: expected the echo guest's JSON, got ${fmt(data)}`);
    }
  }
  expect(obj && typeof obj === 'object' && typeof obj.method === 'string' && obj.queries && obj.headers,
    `${what}: echo JSON`, 'an object with method, path, queries, headers, body', obj);
  return obj;
}

// rawRequest sends one request with node:http, no SDK involved.
function rawRequest({ method, path: p, query, headers, body }) {
  const lib = endpointURL.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({
      protocol: endpointURL.protocol,
      hostname: endpointURL.hostname,
      port: endpointURL.port || undefined,
      method,
      path: p + (query ? `?${query}` : ''),
      headers,
      agent: false,
      timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

function rawSummary(r) {
  return `status ${r.status}, x-fc-error-type ${fmt(r.headers['x-fc-error-type'])}, body ${fmt(r.body)}`;
}

// ---------------------------------------------------------------- the run

async function main() {
  out(`# @alicloud/fc2 ${sdkVersion}, node ${process.version}, endpoint ${endpoint}, expect ${expectMode}`);

  let zip, wasm, wasmSHA256;
  current = 'setup';
  try {
    zip = fs.readFileSync(zipPath);
    const entry = wasmFromZip(zip);
    wasm = entry.wasm;
    wasmSHA256 = crypto.createHash('sha256').update(wasm).digest('hex');
    out(`# FC_ZIP_FILE ${path.basename(zipPath)}: ${zip.length} bytes, ${entry.name} ${wasm.length} bytes, sha256 ${wasmSHA256}`);
  } catch (e) {
    await die('setup', `FC_ZIP_FILE ${zipPath}: ${e.message}`);
  }

  const client = newClient();
  const badSecretClient = newClient({ accessKeySecret: accessKeySecret + 'x' });
  const badKeyClient = newClient({ accessKeyID: 'fc2-node-no-such-key' });
  const rand = crypto.randomBytes(4).toString('hex');
  const svc = `fc2node-${Date.now().toString(36)}-${rand}`;
  const fn = 'echo';
  const trig = 'http';
  const proxy = `/proxy/${svc}/${fn}`;
  const fullProxy = `/2016-08-15${proxy}`;
  const created = { service: false, fn: false, trigger: false };

  cleanup = async () => {
    if (created.trigger) {
      await client.deleteTrigger(svc, fn, trig).then(() => out(`# cleanup: deleted trigger ${trig}`), (e) => out(`# cleanup: deleteTrigger: ${describeErr(e)}`));
    }
    if (created.fn) {
      await client.deleteFunction(svc, fn).then(() => out(`# cleanup: deleted function ${fn}`), (e) => out(`# cleanup: deleteFunction: ${describeErr(e)}`));
    }
    if (created.service) {
      await client.deleteService(svc).then(() => out(`# cleanup: deleted service ${svc}`), (e) => out(`# cleanup: deleteService: ${describeErr(e)}`));
    }
  };

  // ---- services

  await step('createService', async () => {
    const resp = await client.createService(svc, { description: 'fc2-node compat' });
    created.service = true;
    requestID(resp, 'createService');
    expectEqual(resp.data && resp.data.serviceName, svc, 'createService data.serviceName');
    expectEqual(resp.data.description, 'fc2-node compat', 'createService data.description');
    return svc;
  });

  await step('createService-duplicate', async () => {
    // A different description, so the request is not byte-identical to the
    // first one (see invoke-repeat about identical signatures).
    const e = await expectReject(client.createService(svc, { description: 'duplicate' }), 'createService on an existing name', 409);
    return `409 ${e.code}`;
  });

  await step('getService', async () => {
    const resp = await client.getService(svc);
    requestID(resp, 'getService');
    expectEqual(resp.data && resp.data.serviceName, svc, 'getService data.serviceName');
    expect(typeof resp.data.createdTime === 'string' && resp.data.createdTime !== '', 'getService data.createdTime', 'a time string', resp.data.createdTime);
    expect(typeof resp.data.lastModifiedTime === 'string' && resp.data.lastModifiedTime !== '', 'getService data.lastModifiedTime', 'a time string', resp.data.lastModifiedTime);
  });

  await step('listServices', async () => {
    const resp = await client.listServices({ prefix: svc, limit: 100 });
    requestID(resp, 'listServices');
    expect(resp.data && Array.isArray(resp.data.services), 'listServices data.services', 'an array', resp.data);
    const names = resp.data.services.map((s) => s.serviceName);
    expect(names.includes(svc), 'listServices data.services[].serviceName', `a list including ${svc}`, names);
  });

  // ---- functions

  let checksum;
  await step('createFunction', async () => {
    const resp = await client.createFunction(svc, {
      functionName: fn,
      description: 'fc2-node compat function',
      runtime: 'wasm',
      handler: 'handle',
      memorySize: 128,
      timeout: 3,
      code: { zipFile: zip.toString('base64') },
    });
    created.fn = true;
    requestID(resp, 'createFunction');
    const d = resp.data || {};
    expectEqual(d.functionName, fn, 'createFunction data.functionName');
    expectEqual(d.runtime, 'wasm', 'createFunction data.runtime');
    expectEqual(d.handler, 'handle', 'createFunction data.handler');
    expectEqual(d.memorySize, 128, 'createFunction data.memorySize');
    expectEqual(d.timeout, 3, 'createFunction data.timeout');
    // fnhost's codeChecksum is the hex SHA-256 of the .wasm (FC's is a CRC-64 of the zip).
    expectEqual(d.codeChecksum, wasmSHA256, 'createFunction data.codeChecksum (hex sha256 of the .wasm in the zip)');
    expect(typeof d.codeSize === 'number' && d.codeSize > 0, 'createFunction data.codeSize', 'a positive number', d.codeSize);
    checksum = d.codeChecksum;
    return `codeSize ${d.codeSize}`;
  });

  await step('getFunction', async () => {
    const resp = await client.getFunction(svc, fn);
    requestID(resp, 'getFunction');
    const d = resp.data || {};
    expectEqual(d.functionName, fn, 'getFunction data.functionName');
    expectEqual(d.runtime, 'wasm', 'getFunction data.runtime');
    expectEqual(d.handler, 'handle', 'getFunction data.handler');
    expectEqual(d.memorySize, 128, 'getFunction data.memorySize');
    expectEqual(d.timeout, 3, 'getFunction data.timeout');
    expectEqual(d.codeChecksum, checksum || wasmSHA256, 'getFunction data.codeChecksum');
    expect(typeof d.createdTime === 'string' && d.createdTime !== '', 'getFunction data.createdTime', 'a time string', d.createdTime);
  });

  await step('listFunctions', async () => {
    const resp = await client.listFunctions(svc);
    requestID(resp, 'listFunctions');
    expect(resp.data && Array.isArray(resp.data.functions), 'listFunctions data.functions', 'an array', resp.data);
    const names = resp.data.functions.map((f) => f.functionName);
    expect(names.includes(fn), 'listFunctions data.functions[].functionName', `a list including ${fn}`, names);
  });

  await step('updateFunction', async () => {
    // Partial update: fields left out keep their values.
    const resp = await client.updateFunction(svc, fn, { description: 'updated by fc2-node', timeout: 5 });
    requestID(resp, 'updateFunction');
    const d = resp.data || {};
    expectEqual(d.description, 'updated by fc2-node', 'updateFunction data.description');
    expectEqual(d.timeout, 5, 'updateFunction data.timeout');
    expectEqual(d.memorySize, 128, 'updateFunction data.memorySize (not sent, must be kept)');
    expectEqual(d.runtime, 'wasm', 'updateFunction data.runtime (not sent, must be kept)');
    expectEqual(d.codeChecksum, checksum || wasmSHA256, 'updateFunction data.codeChecksum (no code sent, must be kept)');
    const again = await client.getFunction(svc, fn);
    expectEqual(again.data && again.data.description, 'updated by fc2-node', 'getFunction after updateFunction: data.description');
    expectEqual(again.data.timeout, 5, 'getFunction after updateFunction: data.timeout');
  });

  await step('getFunctionCode', async () => {
    const resp = await client.getFunctionCode(svc, fn);
    requestID(resp, 'getFunctionCode');
    expect(resp.data && typeof resp.data === 'object' && typeof resp.data.url === 'string' && resp.data.url !== '',
      'getFunctionCode data.url', 'a non-empty string', resp.data);
    return `url ${resp.data.url.slice(0, 80)}`;
  });

  await step('getFunction-missing', async () => {
    const e = await expectReject(client.getFunction(svc, 'no-such-function'), 'getFunction on a missing function', 404);
    return `404 ${e.code}`;
  });

  // ---- triggers

  await step('createTrigger', async () => {
    const resp = await client.createTrigger(svc, fn, {
      triggerName: trig,
      triggerType: 'http',
      triggerConfig: { authType: 'function', methods: ['GET', 'POST'] },
    });
    created.trigger = true;
    requestID(resp, 'createTrigger');
    const d = resp.data || {};
    expectEqual(d.triggerName, trig, 'createTrigger data.triggerName');
    expectEqual(d.triggerType, 'http', 'createTrigger data.triggerType');
    expectEqual(d.triggerConfig && d.triggerConfig.authType, 'function', 'createTrigger data.triggerConfig.authType');
    expectEqual(d.triggerConfig.methods, ['GET', 'POST'], 'createTrigger data.triggerConfig.methods');
  });

  await step('getTrigger', async () => {
    const resp = await client.getTrigger(svc, fn, trig);
    requestID(resp, 'getTrigger');
    const d = resp.data || {};
    expectEqual(d.triggerName, trig, 'getTrigger data.triggerName');
    expectEqual(d.triggerType, 'http', 'getTrigger data.triggerType');
    expectEqual(d.triggerConfig && d.triggerConfig.authType, 'function', 'getTrigger data.triggerConfig.authType');
    expectEqual(d.triggerConfig.methods, ['GET', 'POST'], 'getTrigger data.triggerConfig.methods');
  });

  await step('listTriggers', async () => {
    const resp = await client.listTriggers(svc, fn);
    requestID(resp, 'listTriggers');
    expect(resp.data && Array.isArray(resp.data.triggers), 'listTriggers data.triggers', 'an array', resp.data);
    const names = resp.data.triggers.map((t) => t.triggerName);
    expect(names.includes(trig), 'listTriggers data.triggers[].triggerName', `a list including ${trig}`, names);
  });

  // ---- InvokeFunction

  const checkInvoke = (resp, payload, what) => {
    requestID(resp, what);
    const errType = resp.headers['x-fc-error-type'];
    expect(errType === undefined, `${what}: response header x-fc-error-type (set means the function failed)`,
      'no such header', `${errType}, body ${fmt(resp.data)}`);
    if (expectMode === 'hello') {
      expectEqual(bodyText(resp.data), 'hello world', `${what}: body`);
      return;
    }
    const echo = echoOf(resp.data, what);
    expectEqual(echo.body, payload, `${what}: the payload as the guest received it (echo "body")`);
  };

  await step('invokeFunction', async () => {
    const payload = `fc2-node invoke payload ${rand}`;
    const resp = await client.invokeFunction(svc, fn, payload);
    checkInvoke(resp, payload, 'invokeFunction');
    return `request id ${resp.headers['x-fc-request-id']}`;
  });

  await step('invokeFunction-rawBuf', async () => {
    // opts.rawBuf makes the SDK hand back the body as a Buffer (unless the
    // response carries x-fc-error-type, or is application/json, which it parses).
    const payload = Buffer.from(`fc2-node buffer payload ${rand}`);
    const resp = await client.invokeFunction(svc, fn, payload, {}, undefined, { rawBuf: true });
    checkInvoke(resp, payload.toString(), 'invokeFunction with a Buffer event and rawBuf');
    return `data is ${Buffer.isBuffer(resp.data) ? 'a Buffer' : typeof resp.data}, content-type ${resp.headers['content-type']}`;
  });

  await step('invoke-repeat', async () => {
    // The SDK signs with a one-second Date and no nonce: the same call made
    // twice within a second carries the same Authorization. FC accepts both;
    // a server replay cache would reject the second one. Pinning the date
    // header makes the two requests byte-identical on purpose.
    const payload = `fc2-node repeated payload ${rand}`;
    const date = new Date().toUTCString();
    const r1 = await client.invokeFunction(svc, fn, payload, { date });
    checkInvoke(r1, payload, 'first of two identical invokeFunction calls');
    const r2 = await client.invokeFunction(svc, fn, payload, { date });
    checkInvoke(r2, payload, 'second of two identical invokeFunction calls (same Date, same signature)');
  });

  await step('invokeFunction-missing', async () => {
    const e = await expectReject(client.invokeFunction(svc, 'no-such-function', 'x'), 'invokeFunction on a missing function', 404);
    return `404 ${e.code}`;
  });

  // ---- HTTP trigger through the SDK (signed)

  const echoPathOK = (got, sub) => got === sub || got === fullProxy + sub;

  await step('trigger-get', async () => {
    const sub = '/echo/sub';
    const query = { q: 'hello world', multi: ['2', '1'], empty: '' }; // string values only: see the report
    const resp = await client.get(proxy + sub, query, { 'x-custom-test': 'abc', 'x-fc-trace-id': `trace-${rand}` });
    requestID(resp, 'trigger GET');
    if (expectMode === 'hello') {
      expectEqual(bodyText(resp.data), 'hello world', 'trigger GET body');
      return undefined;
    }
    const echo = echoOf(resp.data, 'trigger GET');
    expectEqual(echo.method, 'GET', 'trigger GET: echo method');
    expect(echoPathOK(echo.path, sub), 'trigger GET: echo path', `${sub} (or ${fullProxy}${sub})`, echo.path);
    expectEqual(echo.queries.q, ['hello world'], 'trigger GET: echo queries.q');
    expectEqual(echo.queries.multi, ['2', '1'], 'trigger GET: echo queries.multi');
    expectEqual(echo.queries.empty, [''], 'trigger GET: echo queries.empty');
    expectEqual(echo.headers['x-custom-test'], ['abc'], 'trigger GET: echo headers["x-custom-test"]');
    expectEqual(echo.body, '', 'trigger GET: echo body');
    return `guest saw path ${echo.path}`;
  });

  await step('trigger-post', async () => {
    const sub = '/echo/post';
    const body = `fc2-node posted body ${rand}`;
    const resp = await client.post(proxy + sub, body, { 'x-custom-test': 'def' }, { k: 'v' });
    requestID(resp, 'trigger POST');
    if (expectMode === 'hello') {
      expectEqual(bodyText(resp.data), 'hello world', 'trigger POST body');
      return;
    }
    const echo = echoOf(resp.data, 'trigger POST');
    expectEqual(echo.method, 'POST', 'trigger POST: echo method');
    expect(echoPathOK(echo.path, sub), 'trigger POST: echo path', `${sub} (or ${fullProxy}${sub})`, echo.path);
    expectEqual(echo.body, body, 'trigger POST: echo body');
    expectEqual(echo.queries.k, ['v'], 'trigger POST: echo queries.k');
    expectEqual(echo.headers['x-custom-test'], ['def'], 'trigger POST: echo headers["x-custom-test"]');
    expectEqual(echo.headers['content-type'], ['application/octet-stream'], 'trigger POST: echo headers["content-type"] (the SDK sets it for string bodies)');
  });

  await step('trigger-post-json', async () => {
    const sub = '/echo/json';
    const obj = { hello: 'json', n: 1, rand };
    const resp = await client.post(proxy + sub, obj);
    requestID(resp, 'trigger POST (object body)');
    if (expectMode === 'hello') {
      expectEqual(bodyText(resp.data), 'hello world', 'trigger POST (object body) body');
      return;
    }
    const echo = echoOf(resp.data, 'trigger POST (object body)');
    expectEqual(echo.body, JSON.stringify(obj), 'trigger POST (object body): echo body');
    expectEqual(echo.headers['content-type'], ['application/json'], 'trigger POST (object body): echo headers["content-type"]');
  });

  await step('trigger-path-escape', async () => {
    // The SDK signs the path as given ("/echo/a b") and url.parse sends it
    // escaped ("/echo/a%20b"): the server must verify the decoded path.
    const resp = await client.get(`${proxy}/echo/a b`);
    if (expectMode === 'hello') {
      expectEqual(bodyText(resp.data), 'hello world', 'trigger GET with a space in the path: body');
      return undefined;
    }
    const echo = echoOf(resp.data, 'trigger GET with a space in the path');
    const ok = ['/echo/a%20b', '/echo/a b'].some((s) => echoPathOK(echo.path, s));
    expect(ok, 'trigger GET with a space in the path: echo path', '/echo/a%20b (or /echo/a b)', echo.path);
    return `guest saw path ${echo.path}`;
  });

  await step('trigger-method-not-allowed', async () => {
    // PUT is not in the trigger's methods: FC answers 403.
    const e = await expectReject(client.request('PUT', `${proxy}/echo/put`, null, 'x'), 'trigger PUT (not in methods)', 403);
    return `403 ${e.code}`;
  });

  await step('trigger-bad-secret', async () => {
    const e = await expectReject(badSecretClient.get(`${proxy}/echo/bad`, { a: 'b' }), 'trigger GET signed with a wrong secret', 403, 'SignatureNotMatch');
    return `403 ${e.code}`;
  });

  // ---- HTTP trigger, raw (node:http)

  const rawPath = `${fullProxy}/echo/raw`;
  const signedHeaders = (date, secret, queries, method = 'GET') => {
    const h = { date, 'x-fc-account-id': accountID, 'x-custom-test': 'raw' };
    h.authorization = FC.getSignature(accessKeyID, secret, method, rawPath, h, queries);
    return h;
  };

  await step('trigger-raw-signed', async () => {
    // Control for the raw rejections below: the same request, signed with the
    // SDK's own FC.getSignature, is accepted.
    const r = await rawRequest({ method: 'GET', path: rawPath, query: 'q=raw',
      headers: signedHeaders(new Date().toUTCString(), accessKeySecret, { q: 'raw' }) });
    expect(r.status === 200, 'raw trigger GET signed with FC.getSignature', 'status 200', rawSummary(r));
    if (expectMode === 'echo') {
      const echo = echoOf(r.body, 'raw trigger GET');
      expectEqual(echo.queries.q, ['raw'], 'raw trigger GET: echo queries.q');
    }
  });

  await step('trigger-unsigned', async () => {
    const r = await rawRequest({ method: 'GET', path: rawPath, query: 'q=raw', headers: { 'x-custom-test': 'raw' } });
    expect(r.status === 400, 'trigger GET without Authorization and Date', 'status 400 (missing required headers)', rawSummary(r));
    const r2 = await rawRequest({ method: 'GET', path: rawPath, query: 'q=raw', headers: { date: new Date().toUTCString() } });
    expect(r2.status === 400, 'trigger GET with Date but without Authorization', 'status 400 (missing required header)', rawSummary(r2));
    return `x-fc-error-type ${r.headers['x-fc-error-type']}`;
  });

  await step('trigger-bad-signature', async () => {
    const wrong = await rawRequest({ method: 'GET', path: rawPath, query: 'q=raw',
      headers: signedHeaders(new Date().toUTCString(), accessKeySecret + 'x', { q: 'raw' }) });
    expect(wrong.status === 403, 'trigger GET signed with a wrong secret', 'status 403', rawSummary(wrong));
    const tampered = await rawRequest({ method: 'GET', path: rawPath, query: 'q=tampered',
      headers: signedHeaders(new Date().toUTCString(), accessKeySecret, { q: 'raw' }) });
    expect(tampered.status === 403, 'trigger GET whose query differs from the signed one', 'status 403', rawSummary(tampered));
    const stale = new Date(Date.now() - 20 * 60 * 1000).toUTCString();
    const old = await rawRequest({ method: 'GET', path: rawPath, query: 'q=raw',
      headers: signedHeaders(stale, accessKeySecret, { q: 'raw' }) });
    expect(old.status === 403, 'trigger GET correctly signed with a Date 20 minutes old', 'status 403', rawSummary(old));
    const garbage = await rawRequest({ method: 'GET', path: rawPath, query: 'q=raw',
      headers: { date: new Date().toUTCString(), authorization: 'FC nonsense' } });
    expect(garbage.status === 403, 'trigger GET with a malformed Authorization', 'status 403', rawSummary(garbage));
  });

  await step('updateTrigger-anonymous', async () => {
    const resp = await client.updateTrigger(svc, fn, trig, {
      triggerConfig: { authType: 'anonymous', methods: ['GET', 'POST'] },
    });
    requestID(resp, 'updateTrigger');
    expectEqual(resp.data && resp.data.triggerConfig && resp.data.triggerConfig.authType, 'anonymous', 'updateTrigger data.triggerConfig.authType');
    expectEqual(resp.data.triggerName, trig, 'updateTrigger data.triggerName');
    const r = await rawRequest({ method: 'GET', path: rawPath, query: 'q=anon', headers: { 'x-custom-test': 'anon' } });
    expect(r.status === 200, 'unsigned trigger GET after authType became anonymous', 'status 200', rawSummary(r));
    if (expectMode === 'echo') {
      expectEqual(echoOf(r.body, 'anonymous trigger GET').queries.q, ['anon'], 'anonymous trigger GET: echo queries.q');
    }
  });

  // ---- management errors

  await step('getService-missing', async () => {
    const e = await expectReject(client.getService(`${svc}-missing`), 'getService on a missing service', 404, 'ServiceNotFound');
    expect(e.name === 'FCServiceNotFoundError', 'SDK error name', 'FCServiceNotFoundError', e.name);
    expect(!/requestid: undefined/.test(e.message), 'SDK error message (carries x-fc-request-id)', 'a request id', e.message);
  });

  await step('management-bad-secret', async () => {
    await expectReject(badSecretClient.getService(svc), 'getService signed with a wrong secret', 403, 'SignatureNotMatch');
  });

  await step('management-bad-key', async () => {
    await expectReject(badKeyClient.getService(svc), 'getService with an unknown access key id', 403, 'InvalidAccessKeyID');
  });

  await step('management-unsigned', async () => {
    const r = await rawRequest({ method: 'GET', path: `/2016-08-15/services/${svc}`, headers: { date: new Date().toUTCString() } });
    expect(r.status === 400 || r.status === 403, 'unsigned GET /2016-08-15/services/{svc} (Date, no Authorization)', 'status 400 (or 403)', rawSummary(r));
    return `${r.status}`;
  });

  await step('deleteService-not-empty', async () => {
    const e = await expectReject(client.deleteService(svc), 'deleteService while it still has a function', [400, 409, 412]);
    return `${sdkStatus(e)} ${e.code}`;
  });

  // ---- cleanup

  await step('deleteTrigger', async () => {
    const resp = await client.deleteTrigger(svc, fn, trig);
    created.trigger = false;
    requestID(resp, 'deleteTrigger');
    await expectReject(client.getTrigger(svc, fn, trig), 'getTrigger after deleteTrigger', 404);
  });

  await step('trigger-after-delete', async () => {
    const e = await expectReject(client.get(`${proxy}/echo/gone`), 'trigger GET after deleteTrigger', 404);
    return `404 ${e.code}`;
  });

  await step('deleteFunction', async () => {
    const resp = await client.deleteFunction(svc, fn);
    created.fn = false;
    requestID(resp, 'deleteFunction');
    await expectReject(client.getFunction(svc, fn), 'getFunction after deleteFunction', 404);
  });

  await step('deleteService', async () => {
    const resp = await client.deleteService(svc);
    created.service = false;
    requestID(resp, 'deleteService');
    await expectReject(client.getService(svc), 'getService after deleteService', 404, 'ServiceNotFound');
  });

  cleanup = null;
  out(`fc2-node compat: all ${passed} steps ok${skip.size ? ` (skipped: ${[...skip].join(', ')})` : ''}`);
  process.exit(0);
}

main().catch((e) => die(current, describeErr(e)));
