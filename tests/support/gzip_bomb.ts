/**
 * A gzip bomb made in the test: many zeros that compress about 1,000 to 1.
 *
 * @module
 */

const MIB = 1024 * 1024;

/** `mebibytes` MiB of zeros, gzip-compressed (200 MiB come to about 200 KiB). */
export async function gzipBomb(mebibytes = 200): Promise<Uint8Array<ArrayBuffer>> {
  const block = new Uint8Array(MIB);
  let left = mebibytes;
  const zeros = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      if (left-- > 0) controller.enqueue(block);
      else controller.close();
    },
  });
  return await new Response(zeros.pipeThrough(new CompressionStream("gzip"))).bytes();
}
