// ARNs of the emulated account: state machines, executions and the synthetic Lambda functions.

export interface AccountScope {
  region: string;
  accountId: string;
}

export function stateMachineArn(scope: AccountScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

export function executionArn(scope: AccountScope, machineName: string, executionName: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${machineName}:${executionName}`;
}

export function lambdaArn(scope: AccountScope, functionKey: string): string {
  return `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${functionKey}`;
}

export function roleArn(scope: AccountScope, machineName: string): string {
  return `arn:aws:iam::${scope.accountId}:role/${machineName}-local-role`;
}

/** Parses `arn:aws:states:<region>:<account>:<kind>:<name>[:<sub>]`; undefined when malformed. */
export function parseStatesArn(
  arn: string,
): { region: string; accountId: string; kind: string; machineName: string; executionName?: string } | undefined {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'states') return undefined;
  const [, , , region = '', accountId = '', kind = '', machineName = '', executionName] = parts;
  if (!region || !accountId || !machineName) return undefined;
  if (kind === 'stateMachine' && parts.length === 7) return { region, accountId, kind, machineName };
  if (kind === 'execution' && parts.length === 8 && executionName) {
    return { region, accountId, kind, machineName, executionName };
  }
  return undefined;
}

/** The Lambda function name inside a literal ARN (`...:function:<name>[:<qualifier>]`). */
export function lambdaFunctionName(arn: string): string | undefined {
  const match = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(arn);
  return match?.[1];
}

// AWS rejects names with whitespace, brackets, wildcards, these punctuation marks and control characters.
// eslint-disable-next-line no-control-regex
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

export function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= 80 && !INVALID_NAME.test(name);
}
