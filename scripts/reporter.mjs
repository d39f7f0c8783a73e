// A node:test reporter for `npm test`: quiet when things pass, whole when they do not.
//
// - A failed test prints its name at once, and at the end its error and the lines its file
//   wrote (stdout, stderr, diagnostics), so a failure explains itself without a rerun.
// - A skipped test prints its reason, once per reason.
// - The last line is the summary: passed, failed, skipped, and why skipped.
//
// node:test hands every event of every test file (run in their own processes) to this async
// generator, in order per file. Suites count as tests in node's own totals; here only leaves do.

const failures = [];
const skips = new Map(); // reason → count
const output = new Map(); // file → lines written outside any test result
let passed = 0;
let failed = 0;
let todo = 0;

function where(data) {
  return data.file ? ` (${data.file.replace(/^.*\/dist\/test\//, 'test/').replace(/\.js$/, '.ts')})` : '';
}

function describeError(error) {
  const cause = error?.cause ?? error;
  if (!cause) return String(error);
  const text = cause.stack ?? cause.message ?? String(cause);
  return cause.code === 'ERR_ASSERTION' || !cause.stack ? `${cause.message ?? text}` : text;
}

export default async function* reporter(source) {
  for await (const event of source) {
    const data = event.data ?? {};
    switch (event.type) {
      case 'test:pass':
        if (data.details?.type === 'suite') break;
        if (data.skip !== undefined) {
          const reason = typeof data.skip === 'string' ? data.skip : 'no reason given';
          const key = `${data.name}${where(data)}: ${reason}`;
          if (!skips.has(key)) yield `skipped: ${key}\n`;
          skips.set(key, (skips.get(key) ?? 0) + 1);
        } else if (data.todo !== undefined) todo++;
        else passed++;
        break;
      case 'test:fail': {
        if (data.details?.type === 'suite') break;
        // A file that fails outside its tests (a syntax error, a crash) arrives as a failed
        // test named after the file; it counts like any failure.
        failed++;
        failures.push(data);
        yield `FAILED: ${data.name}${where(data)} (details at the end)\n`;
        break;
      }
      case 'test:stdout':
      case 'test:stderr':
      case 'test:diagnostic': {
        const text = event.type === 'test:diagnostic' ? `# ${data.message}\n` : data.message;
        if (event.type === 'test:diagnostic' && data.nesting === 0 && /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(data.message)) break;
        const key = data.file;
        if (!output.has(key)) output.set(key, []);
        output.get(key).push(text);
        break;
      }
      default:
        break;
    }
  }
  // Failures in full at the end, where a reader looks first, each with what its file wrote
  // (a test's own diagnostics arrive after its result, so they are only complete now).
  for (const data of failures) {
    yield `\nFAILED: ${data.name}${where(data)}\n${indent(describeError(data.details?.error))}\n`;
    const lines = output.get(data.file) ?? [];
    if (lines.length > 0) yield `${indent(`what ${where(data).trim() || 'its file'} wrote (last 40 lines):\n${lines.slice(-40).join('')}`)}\n`;
  }
  const why = [...skips.keys()].map((key) => key.slice(key.indexOf(': ') + 2));
  const reasons = [...new Set(why)];
  const skipped = [...skips.values()].reduce((a, b) => a + b, 0);
  yield `\n${failed === 0 ? 'ok' : 'FAILED'}: ${passed} passed, ${failed} failed, ${skipped} skipped` +
    (todo ? `, ${todo} todo` : '') +
    (reasons.length ? ` (${reasons.join('; ')})` : '') +
    '\n';
}

function indent(text) {
  return String(text)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
