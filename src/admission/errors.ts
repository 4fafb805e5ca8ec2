/**
 * Rejections raised while a request waits for admission (a concurrency slot or its throttle turn). The request
 * handler renders both {@linkcode QueueFullError} and {@linkcode QueueTimeoutError} with the status of
 * `queue.status` (429 by default, or 503) and a `Retry-After` header taken from `retryAfterSeconds`.
 *
 * A request whose client disconnects while queued is not rejected with these errors: its wait rejects with the
 * abort signal's reason instead.
 *
 * @module
 */

/** What the request was waiting for: its model's slot, a global slot, or its model's throttle turn. */
export type AdmissionScope = "model" | "global" | "throttle";

/** Structured data carried by every admission error. */
export interface AdmissionErrorDetails {
  /** The model name the request asked for. */
  readonly model: string;
  /** Which queue rejected the request. */
  readonly scope: AdmissionScope;
  /** The concurrency limit of that queue; `null` for the throttle, which has none. */
  readonly limit: number | null;
  /** Requests waiting in that queue when this one was rejected, this one included. */
  readonly waiting: number;
  /** A suggested delay before retrying, in whole seconds (at least 1). */
  readonly retryAfterSeconds: number;
}

/** Base class of the admission rejections; catch this to handle both. */
export abstract class AdmissionError extends Error implements AdmissionErrorDetails {
  readonly model: string;
  readonly scope: AdmissionScope;
  readonly limit: number | null;
  readonly waiting: number;
  readonly retryAfterSeconds: number;

  /** Builds the error from its message and details. */
  constructor(message: string, details: AdmissionErrorDetails) {
    super(message);
    this.model = details.model;
    this.scope = details.scope;
    this.limit = details.limit;
    this.waiting = details.waiting;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** The model's wait queue already holds `max_waiting` requests, so this one was turned away without queueing. */
export class QueueFullError extends AdmissionError {
  override name = "QueueFullError";

  /** Builds the error with a message naming the model and the queue. */
  constructor(details: AdmissionErrorDetails) {
    super(
      `Too many requests waiting for ${describeQueue(details)}: ${details.waiting} already queued`,
      details,
    );
  }
}

/** The request waited longer than the queue timeout and was removed from the queue. */
export class QueueTimeoutError extends AdmissionError {
  override name = "QueueTimeoutError";

  /** Builds the error with a message naming the model, the queue and how long the request waited. */
  constructor(details: AdmissionErrorDetails & { readonly waitedSeconds: number }) {
    super(`Timed out after ${details.waitedSeconds}s waiting for ${describeQueue(details)}`, details);
  }
}

function describeQueue({ model, scope, limit }: AdmissionErrorDetails): string {
  switch (scope) {
    case "model":
      return `a slot for model "${model}" (limit: ${limit})`;
    case "global":
      return `a global slot for model "${model}" (limit: ${limit})`;
    case "throttle":
      return `the throttle of model "${model}"`;
  }
}
