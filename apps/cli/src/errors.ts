/** A mistake in the command line (exit code 2). */
export class UsageError extends Error {}

/** A task that ended failed or cancelled (exit code 1). */
export class TaskFailedError extends Error {
  constructor(message: string, readonly task: unknown) {
    super(message);
  }
}
