// Step Functions API errors. The AWS SDK v3 and botocore read the error name from `__type`
// (and the `x-amzn-errortype` header) and the text from `message`.

export class SfnApiError extends Error {
  readonly statusCode: number;

  constructor(type: string, message: string, statusCode = 400) {
    super(message);
    this.name = type;
    this.statusCode = statusCode;
  }
}

export const apiError = {
  executionDoesNotExist: (arn: string) => new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`),
  stateMachineDoesNotExist: (arn: string) =>
    new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`),
  executionAlreadyExists: (arn: string) =>
    new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`),
  invalidArn: (arn: string) => new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`),
  invalidName: (name: string) => new SfnApiError('InvalidName', `Invalid Name: '${name}'`),
  invalidExecutionInput: (detail: string) => new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${detail}'`),
  invalidToken: (token: string) => new SfnApiError('InvalidToken', `Invalid Token: '${token}'`),
  validation: (message: string) => new SfnApiError('ValidationException', message),
  missingParameter: (member: string) =>
    new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    ),
};
