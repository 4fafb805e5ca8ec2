import assert from "node:assert/strict";
import { CliError, HELP_TEXT, parseCli } from "../src/cli.ts";

/** Asserts that `args` are rejected with a {@link CliError} whose message matches `pattern`. */
function assertCliError(args: string[], pattern: RegExp): void {
  assert.throws(() => parseCli(args), (error: unknown) => {
    assert.ok(error instanceof CliError, `${args.join(" ")}: expected a CliError, got ${error}`);
    assert.match(error.message, pattern, args.join(" "));
    assert.doesNotMatch(error.message, /\n|\.$/, "one sentence-case line without a trailing period");
    return true;
  });
}

Deno.test("parseCli returns no overrides and no actions for an empty command line", () => {
  assert.deepEqual(parseCli([]), {
    help: false,
    version: false,
    printSchema: false,
    check: false,
    requireAuth: false,
    insecureNoAuth: false,
    configPath: undefined,
    probe: undefined,
    readyFile: undefined,
    overrides: {},
  });
});

Deno.test("parseCli reads --require-auth and --insecure-no-auth, which are not config overrides", () => {
  const command = parseCli(["--require-auth", "--insecure-no-auth"]);
  assert.deepEqual([command.requireAuth, command.insecureNoAuth, command.overrides], [true, true, {}]);
  assert.match(HELP_TEXT, /--require-auth/);
  assert.match(HELP_TEXT, /--insecure-no-auth/);
});

Deno.test("parseCli reads every flag into its override", () => {
  const command = parseCli([
    "--config=proxy.json",
    "--host",
    "0.0.0.0",
    "--port",
    "9000",
    "--base-path",
    "/proxy",
    "--target-base-url",
    "http://127.0.0.1:8080/v1",
    "--model-bindings",
    '{"glm-*":"zai","*":"local"}',
    "--enforce-params",
    '{"temperature":0.6,"top_k":null}',
    "--override-model-name",
    "qwen3",
    "--override-only-anthropic",
    "--parallel-limits",
    '{"global":4,"qwen*":1}',
    "--debug-logs",
    "--override-logs",
  ]);
  assert.equal(command.configPath, "proxy.json");
  assert.deepEqual(command.overrides, {
    host: "0.0.0.0",
    port: 9000,
    basePath: "/proxy",
    targets: [{ url: "http://127.0.0.1:8080/v1" }],
    bindings: { "glm-*": "zai", "*": "local" },
    forceParams: { temperature: 0.6, top_k: null },
    overrideModelName: "qwen3",
    onlyAnthropic: true,
    parallelLimits: { global: 4, "qwen*": 1 },
    debug: true,
    overrideLogs: true,
  });
});

Deno.test("parseCli accepts the short flags", () => {
  const command = parseCli(["-c", "c.json", "-d", "-e", '{"temperature":1}', "-o", "-h", "-V"]);
  assert.equal(command.configPath, "c.json");
  assert.equal(command.overrides.debug, true);
  assert.equal(command.overrides.overrideLogs, true);
  assert.deepEqual(command.overrides.forceParams, { temperature: 1 });
  assert.equal(command.help, true);
  assert.equal(command.version, true);
});

Deno.test("parseCli reads the action flags", () => {
  const cases: { args: string[]; want: [boolean, boolean, boolean, boolean] }[] = [
    { args: ["--help"], want: [true, false, false, false] },
    { args: ["--version"], want: [false, true, false, false] },
    { args: ["--print-schema"], want: [false, false, true, false] },
    { args: ["--check"], want: [false, false, false, true] },
  ];
  for (const { args, want } of cases) {
    const { help, version, printSchema, check } = parseCli(args);
    assert.deepEqual([help, version, printSchema, check], want, args[0]);
  }
});

Deno.test("parseCli accepts --override-sampling-params as the seed's name for --enforce-params", () => {
  const command = parseCli(["--override-sampling-params", '{"min_p":0.05}']);
  assert.deepEqual(command.overrides.forceParams, { min_p: 0.05 });
});

Deno.test("parseCli collects a repeated --target-base-url in order, with and without names", () => {
  const command = parseCli([
    "--target-base-url",
    "http://127.0.0.1:8080",
    "--target-base-url",
    "zai=https://api.z.ai/api/anthropic",
    "--target-base-url=local.2=http://h:1/v1?key=a=b",
  ]);
  assert.deepEqual(command.overrides.targets, [
    { url: "http://127.0.0.1:8080" },
    { name: "zai", url: "https://api.z.ai/api/anthropic" },
    { name: "local.2", url: "http://h:1/v1?key=a=b" },
  ]);
});

Deno.test("parseCli treats a bare URL whose query holds = as a URL, not name=URL", () => {
  const command = parseCli(["--target-base-url", "https://h/v1?api-version=2024"]);
  assert.deepEqual(command.overrides.targets, [{ url: "https://h/v1?api-version=2024" }]);
});

Deno.test("parseCli accepts the port range ends", () => {
  assert.equal(parseCli(["--port", "0"]).overrides.port, 0);
  assert.equal(parseCli(["--port", "65535"]).overrides.port, 65535);
});

Deno.test("parseCli rejects bad values with a clear message", () => {
  const cases: { args: string[]; pattern: RegExp }[] = [
    { args: ["--port", "abc"], pattern: /^--port must be a number from 0 to 65535, got "abc"$/ },
    { args: ["--port", "70000"], pattern: /^--port must be a number from 0 to 65535, got "70000"$/ },
    { args: ["--port=-1"], pattern: /^--port must be a number/ },
    { args: ["--port", "80.5"], pattern: /^--port must be a number/ },
    { args: ["--port="], pattern: /^--port must be a number/ },
    { args: ["--host", " "], pattern: /^--host needs an address$/ },
    { args: ["--parallel-limits", "{global:1}"], pattern: /^--parallel-limits: invalid JSON: / },
    { args: ["--parallel-limits", "[1]"], pattern: /^--parallel-limits: expected a JSON object, got \[1\]$/ },
    { args: ["--parallel-limits", "null"], pattern: /^--parallel-limits: expected a JSON object, got null$/ },
    {
      args: ["--parallel-limits", '{"global":1.5}'],
      pattern: /^--parallel-limits: "global" must be a positive integer, got 1\.5$/,
    },
    { args: ["--parallel-limits", '{"m":0}'], pattern: /^--parallel-limits: "m" must be a positive integer, got 0$/ },
    {
      args: ["--parallel-limits", '{"m":"2"}'],
      pattern: /^--parallel-limits: "m" must be a positive integer, got "2"$/,
    },
    { args: ["--model-bindings", '{"*":1}'], pattern: /^--model-bindings: "\*" must map to an upstream name$/ },
    { args: ["--model-bindings", '"zai"'], pattern: /^--model-bindings: expected a JSON object, got "zai"$/ },
    { args: ["-e", "temperature=1"], pattern: /^--enforce-params: invalid JSON: / },
    { args: ["--override-sampling-params", "[]"], pattern: /^--override-sampling-params: expected a JSON object/ },
    { args: ["-e", "{}", "--override-sampling-params", "{}"], pattern: /are the same flag; give one$/ },
    {
      args: ["--target-base-url", "ftp://h/v1"],
      pattern: /^--target-base-url: "ftp:\/\/h\/v1" must use http or https$/,
    },
    { args: ["--target-base-url", "localhost"], pattern: /^--target-base-url: "localhost" is not a URL/ },
    { args: ["--target-base-url", "zai=nowhere"], pattern: /^--target-base-url: "nowhere" is not a URL/ },
    { args: ["--frobnicate"], pattern: /^Unknown option '--frobnicate'$/ },
    { args: ["--prot", "9000"], pattern: /^Unknown option '--prot' \(did you mean "--port"\?\)$/ },
    { args: ["--target-base-urls=http://h"], pattern: /\(did you mean "--target-base-url"\?\)$/ },
    { args: ["--debug"], pattern: /^Unknown option '--debug' \(did you mean "--debug-logs"\?\)$/ },
    { args: ["-z"], pattern: /^Unknown option '-z'$/ },
    { args: ["--port"], pattern: /'--port <value>' argument missing/ },
    { args: ["config.json"], pattern: /^Unexpected argument 'config\.json'/ },
    { args: ["--debug-logs=yes"], pattern: /does not take an argument/ },
  ];
  for (const { args, pattern } of cases) assertCliError(args, pattern);
});

Deno.test("HELP_TEXT lists every flag and the exit codes", () => {
  const flags = [
    "-c, --config",
    "--host",
    "--port",
    "--base-path",
    "--ready-file",
    "--target-base-url",
    "--model-bindings",
    "-e, --enforce-params",
    "--override-sampling-params",
    "--override-model-name",
    "--override-only-anthropic",
    "--parallel-limits",
    "-d, --debug-logs",
    "-o, --override-logs",
    "--check",
    "--print-schema",
    "--probe URL",
    "-V, --version",
    "-h, --help",
  ];
  for (const flag of flags) assert.ok(HELP_TEXT.includes(flag), flag);
  assert.match(HELP_TEXT, /Exit codes: 0 ok, 1 runtime failure .*, 2 bad flag or config/);
  assert.match(HELP_TEXT, /Logs go to stderr/);
});

Deno.test("parseCli takes an http(s) --probe URL and refuses anything else", () => {
  assert.equal(parseCli(["--probe", "http://127.0.0.1:8001/health"]).probe, "http://127.0.0.1:8001/health");
  assertCliError(["--probe", "127.0.0.1:8001"], /^--probe: "127\.0\.0\.1:8001" is not a URL$/);
  assertCliError(["--probe", "file:///etc/passwd"], /^--probe: "file:\/\/\/etc\/passwd" must use http or https$/);
});

Deno.test("parseCli takes --ready-file and refuses an empty one", () => {
  assert.equal(parseCli(["--ready-file", "/tmp/ready"]).readyFile, "/tmp/ready");
  assertCliError(["--ready-file", " "], /^--ready-file needs a path$/);
});
