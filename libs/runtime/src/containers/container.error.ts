// Every failure of a container operation: the message says what was wrong and what to do next.
export type ContainerErrorCode = 'NotFound' | 'Conflict' | 'InvalidState' | 'InvalidSpec' | 'StartFailed';

export class ContainerError extends Error {
  constructor(
    readonly code: ContainerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContainerError';
  }
}
