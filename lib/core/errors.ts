/**
 * The error taxonomy. Each class sets `name` to a literal equal to its class name: Step Functions
 * matches Retry/Catch `ErrorEquals` against it exactly, and minifiers rename classes.
 * Retryable errors are retried with backoff by the state machine; permanent errors fail the run
 * at once. Domain errors (not found, conflict, validation) never reach the state machine.
 */

export abstract class EtlError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;
}

/** A fault that may go away by itself: retried by the state machine's Retry on RunBatch. */
export abstract class RetryableError extends EtlError {
  readonly retryable = true;
}

/** A fault that the same input will hit again: fails the run, recorded on it. */
export abstract class PermanentError extends EtlError {
  readonly retryable = false;
}

// ---- retryable -------------------------------------------------------------------------------

/** Connection refused or lost, server shutting down or starting (SQLSTATE 08xxx, 57P0x, 53xxx). */
export class ConnectionLostError extends RetryableError {
  readonly name = 'ConnectionLostError';
}

/** Serialization failure, deadlock, lock not available, statement cancelled by a timeout on a lock. */
export class TransientConflictError extends RetryableError {
  readonly name = 'TransientConflictError';
}

/** The target table is missing: often it is being swapped or renamed; it may come back. */
export class TargetUnavailableError extends RetryableError {
  readonly name = 'TargetUnavailableError';
}

/** The search engine is throttling (429) or temporarily failing (502-504, unreachable). */
export class SearchUnavailableError extends RetryableError {
  readonly name = 'SearchUnavailableError';
}

// ---- permanent -------------------------------------------------------------------------------

/** The pipeline definition cannot run as stored (bad identifiers, unknown transform...). */
export class InvalidDefinitionError extends PermanentError {
  readonly name = 'InvalidDefinitionError';
}

/** The user's SQL is wrong (syntax, unknown column, type error) or runs past its statement timeout. */
export class SourceQueryError extends PermanentError {
  readonly name = 'SourceQueryError';
}

/**
 * A key the pipeline relies on is NULL or repeats: keyset paging would skip rows, or an upsert
 * would merge two rows. Failing is the only way not to lose a row silently.
 */
export class KeyIntegrityError extends PermanentError {
  readonly name = 'KeyIntegrityError';
}

/** A row the target refuses (constraint, type, mapping): the same row will be refused again. */
export class RejectedRowError extends PermanentError {
  readonly name = 'RejectedRowError';
}

/** A transform task threw on a row. */
export class TransformError extends PermanentError {
  readonly name = 'TransformError';
}

/** The run cannot proceed: it is not in a state that allows this step (e.g. claimed by another execution). */
export class RunStateError extends PermanentError {
  readonly name = 'RunStateError';
}


// ---- domain (HTTP) ---------------------------------------------------------------------------

/** A request body or parameter is invalid; `field` names what is wrong. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The request conflicts with the current state (already running, not running, name taken). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** A dependency the request needs (the Step Functions endpoint) did not answer. */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';
}

export function isRetryable(error: unknown): boolean {
  return error instanceof RetryableError;
}

/**
 * A dependency the service needs is down (the health check's verdict). Unlike other 5xx causes,
 * its message is written to be shown: it says which dependency and why, never a host or password.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
}
