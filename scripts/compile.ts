/**
 * `deno task compile`: builds `dist/sampling-proxy` with `deno compile`.
 *
 * `deno compile` downloads a runtime binary from Deno's own host the first time; where that host cannot be reached
 * (as on machines that only reach the npm registry) the task fails with one clear line instead of a stack trace.
 *
 * @module
 */

const args = [
  "compile",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-write",
  "--unstable-no-legacy-abort",
  "--output",
  "dist/sampling-proxy",
  "src/main.ts",
];

const { code, stderr } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "piped" })
  .output();
const text = new TextDecoder().decode(stderr);
if (code === 0) {
  console.log("Built dist/sampling-proxy");
  Deno.exit(0);
}
const unreachable = /dl\.deno\.land|denort|download|error sending request|dns error|Connection refused/i.test(text);
console.error(
  unreachable
    ? "deno compile failed: it could not download the Deno runtime it embeds (is dl.deno.land reachable from here?)"
    : `deno compile failed: ${text.trim().split("\n").filter(Boolean).pop() ?? `exit code ${code}`}`,
);
Deno.exit(1);
