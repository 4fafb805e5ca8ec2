/**
 * The logging hook of admission control: the caller decides where lines go (and adds the request id).
 *
 * @module
 */

/** Severity of an admission log line. */
export type AdmissionLogLevel = "debug" | "info" | "warn";

/** Receives one log line, e.g. `log("info", "Slot acquired glm-5, used: 2/2")`. */
export type AdmissionLog = (level: AdmissionLogLevel, message: string) => void;
