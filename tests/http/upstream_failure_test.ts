import assert from "node:assert/strict";
import { upstreamFailureReason } from "../../src/http/upstream_failure.ts";

Deno.test("upstreamFailureReason reduces fetch errors to a reason without URL, address or port", () => {
  const url = "http://10.0.0.5:8080/v1/models?key=SECRET";
  const cases: [unknown, string][] = [
    [
      new TypeError(
        `error sending request for url (${url}): client error (Connect): tcp connect error: Connection refused`,
      ),
      "connection refused",
    ],
    [
      new TypeError(`error sending request for url (${url})`, { cause: new Error("Connection reset by peer") }),
      "connection reset",
    ],
    [
      new TypeError(`error sending request for url (${url}): dns error: failed to lookup address information`),
      "host name not found",
    ],
    [
      new TypeError(`error sending request for url (${url}): invalid peer certificate: UnknownIssuer`),
      "TLS handshake failed",
    ],
    [new TypeError(`error sending request for url (${url}): something new`), "connection failed"],
    [new TypeError("tcp connect error 10.0.0.5:8080: weird"), "connection failed"],
    [new TypeError("error reading a body from connection\nmore"), "error reading a body from connection"],
    [new DOMException("Signal timed out.", "TimeoutError"), "timed out"],
    [new Error("status 404"), "status 404"],
    ["gone", "gone"],
  ];
  for (const [error, want] of cases) assert.equal(upstreamFailureReason(error), want, String(error));
});
