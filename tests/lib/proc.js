'use strict';
// Small helpers to run external commands (ffmpeg, ffprobe, cargo, trunk) from Node.

const { spawn } = require('node:child_process');

/**
 * Runs `cmd args...` and resolves with { code, signal, stdout, stderr, seconds }.
 * Never rejects because of a non-zero exit; use `check: true` to throw instead.
 *
 * options:
 *   cwd, env          passed to spawn
 *   check             throw an Error (with the tail of stderr) when the exit code is not 0
 *   inherit           let the child write straight to our stderr/stdout (stdout/stderr are then '')
 *   stdoutToStderr    forward the child's stdout to our stderr (for build logs)
 *   timeoutMs         kill the child (SIGKILL) after this many milliseconds
 *   encoding          'utf8' (default) or 'buffer' for stdout
 */
function run(cmd, args, options = {}) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const stdio = options.inherit ? ['ignore', options.stdoutToStderr ? 2 : 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'];
    let child;
    try {
      child = spawn(cmd, args, { cwd: options.cwd, env: options.env || process.env, stdio });
    } catch (err) {
      reject(err);
      return;
    }
    const out = [];
    const err = [];
    if (child.stdout) child.stdout.on('data', (d) => out.push(d));
    if (child.stderr) child.stderr.on('data', (d) => err.push(d));
    let timer = null;
    if (options.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    }
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdoutBuf = Buffer.concat(out);
      const result = {
        code,
        signal,
        stdout: options.encoding === 'buffer' ? stdoutBuf : stdoutBuf.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      };
      if (options.check && code !== 0) {
        const tail = result.stderr.split('\n').slice(-15).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}\n${tail}`));
        return;
      }
      resolve(result);
    });
  });
}

/** Resolves true when `cmd` can be found on PATH (or is an existing path). */
async function haveCommand(cmd, env) {
  try {
    const r = await run('sh', ['-c', `command -v "$0"`, cmd], { env });
    return r.code === 0;
  } catch {
    return false;
  }
}

module.exports = { run, haveCommand };
