/**
 * Raw TCP reading for tests that speak HTTP byte by byte (stalled bodies, shed connections), where `fetch` would hide
 * what the server sent.
 *
 * @module
 */

/** Everything a raw connection receives until the server closes it (a 5 s safety net, not a timing assertion). */
export async function readToEnd(conn: Deno.Conn): Promise<string> {
  const decoder = new TextDecoder();
  const safety = setTimeout(() => conn.close(), 5_000);
  let text = "";
  const buffer = new Uint8Array(4096);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
  } catch {
    // Closed by the safety net or reset by the server.
  } finally {
    clearTimeout(safety);
  }
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  return text;
}
