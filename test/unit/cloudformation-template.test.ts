/**
 * The deployable template, as `sls package --stage dev` renders it (offline, dummy credentials):
 * the state machine is the definition file unchanged, each function has only the rights it
 * needs, every route but /health needs the API key, no secret reaches the template, and every
 * Lambda ends before its Task gives up on it. Packaged once per run, fresh, as `npm run
 * package:aws` does (into .serverless/; esbuild works in a temporary folder of its own).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const packageDir = path.join(repoRoot, '.serverless');
const STAGE = 'dev';
const STATE_MACHINE_NAME = `etl-${STAGE}-run-pipeline`;
const STATE_MACHINE_ARN = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${STATE_MACHINE_NAME}`;
const EXECUTIONS_ARN = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${STATE_MACHINE_NAME}:*`;
const SCHEDULE_GROUP = `etl-${STAGE}`;
const SCHEDULE_GROUP_ARN = `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule-group/${SCHEDULE_GROUP}`;
const SCHEDULES_ARN = `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${SCHEDULE_GROUP}/*`;
/** The functions that keep a pipeline's EventBridge schedule in step with it (manage-pipelines.ts). */
const SCHEDULE_MANAGERS = ['createPipeline', 'updatePipeline', 'deletePipeline'];
/** API Gateway's REST integration timeout. */
const API_GATEWAY_TIMEOUT_SECONDS = 29;

/** Values a developer may have in the shell: none may leak into a cloud stage's template. */
const LEAKY_ENVIRONMENT = {
  DATABASE_URL: 'postgres://etl_owner:Sup3rSecretPw@db.internal.example:5432/etl',
  ES_URL: 'https://elastic:An0therSecret@search.internal.example:9243',
  OPENSEARCH_URL: 'https://admin:Th1rdSecret@os.internal.example',
  API_KEY: 'developer-api-key-that-must-not-leak',
};

type Json = unknown;
interface Resource {
  Type: string;
  Properties: Record<string, Json>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}

let workDir: string;
let template: { Resources: Record<string, Resource>; Outputs: Record<string, Json> };
let asl: { States: Record<string, Record<string, Json>> };

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'etl-cfn-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...LEAKY_ENVIRONMENT, AWS_ACCESS_KEY_ID: 'dummy', AWS_SECRET_ACCESS_KEY: 'dummy', SLS_TELEMETRY_DISABLED: '1' };
  // Defaults only: no VPC or KMS settings from the shell; a build folder of its own.
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'ETL_VPC', 'ETL_VPC_SUBNET_IDS', 'ETL_VPC_SECURITY_GROUP_IDS', 'ETL_SECRETS_KMS_KEY_ARN']) delete env[name];
  env.ETL_ESBUILD_WORK_FOLDER = path.relative(repoRoot, path.join(workDir, 'esbuild'));
  await promisify(execFile)(path.join(repoRoot, 'node_modules/.bin/sls'), ['package', '--stage', STAGE, '--region', 'us-east-1'], {
    cwd: repoRoot,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  template = JSON.parse(await readFile(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as typeof template;
  asl = JSON.parse(await readFile(path.join(repoRoot, 'statemachines/run-pipeline.asl.json'), 'utf8')) as typeof asl;
}, 240_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---- helpers ---------------------------------------------------------------------------------

const resourcesOfType = (type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

/** serverless names a function's resource `<FunctionKey>LambdaFunction`. */
const functionLogicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;
const functionKeys = () => resourcesOfType('AWS::Lambda::Function').map(([, fn]) => (fn.Properties.FunctionName as string).replace(`etl-${STAGE}-`, ''));
const lambda = (key: string) => template.Resources[functionLogicalId(key)]!.Properties;
const environmentOf = (key: string) => ((lambda(key).Environment as { Variables: Record<string, Json> }).Variables);

const taskStates = () => Object.entries(asl.States).filter(([, state]) => state.Type === 'Task');
const taskFunctionKey = (state: Record<string, Json>) => (state.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
/** Functions triggered by EventBridge rather than by API Gateway or the state machine. */
const EVENT_FUNCTION_KEYS = ['reconcileExecution'];
/** The HTTP functions that reconcile a pipeline's active run with its execution before answering. */
const RECONCILING_HTTP_KEYS = ['getPipeline', 'listPipelines', 'pausePipeline', 'listRuns', 'getRun'];
const httpFunctionKeys = () =>
  functionKeys().filter((key) => !EVENT_FUNCTION_KEYS.includes(key) && !taskStates().some(([, state]) => taskFunctionKey(state) === key));

/** Every statement of a role, both branches of a conditional one (NoValue dropped). */
function roleStatements(roleLogicalId: string): Statement[] {
  const role = template.Resources[roleLogicalId]!;
  expect(role.Type).toBe('AWS::IAM::Role');
  const policies = (role.Properties.Policies as { PolicyDocument: { Statement: Json[] } }[] | undefined) ?? [];
  expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
  const unwrap = (statement: Json): Statement[] => {
    const conditional = (statement as { 'Fn::If'?: [string, Json, Json] })['Fn::If'];
    if (conditional) return [...unwrap(conditional[1]), ...unwrap(conditional[2])];
    if ((statement as { Ref?: string }).Ref === 'AWS::NoValue') return [];
    return [statement as Statement];
  };
  return policies.flatMap((policy) => policy.PolicyDocument.Statement.flatMap(unwrap));
}

function functionStatements(key: string): Statement[] {
  const role = lambda(key).Role as { 'Fn::GetAtt': [string, string] };
  return roleStatements(role['Fn::GetAtt'][0]);
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement): Json[] => [statement.Resource].flat();
/** The ARN text of a resource: a plain string or a `Fn::Sub` template string. */
const arnText = (resource: Json) => (typeof resource === 'string' ? resource : (resource as { 'Fn::Sub'?: Json })['Fn::Sub']);

/** (action, resource) pairs of a function's Step Functions rights. */
function stepFunctionsGrants(key: string): [string, Json][] {
  return functionStatements(key)
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) => actionsOf(statement).filter((action) => action.startsWith('states:') || action === '*').flatMap((action) => resourcesOf(statement).map((resource): [string, Json] => [action, arnText(resource)])));
}

/** The state machine's definition with the plugin's `${placeholder}` Resources mapped back. */
function deployedDefinition(): { States: Record<string, Record<string, Json>> } {
  const [, machine] = resourcesOfType('AWS::StepFunctions::StateMachine')[0]!;
  const definition = machine.Properties.DefinitionString as string | { 'Fn::Sub': [string, Record<string, Json>] };
  if (typeof definition === 'string') return JSON.parse(definition) as ReturnType<typeof deployedDefinition>;
  const [text, substitutions] = definition['Fn::Sub'];
  const parsed = JSON.parse(text) as ReturnType<typeof deployedDefinition>;
  const logicalIdToKey = new Map(functionKeys().map((key) => [functionLogicalId(key), key]));
  for (const state of Object.values(parsed.States)) {
    const placeholder = typeof state.Resource === 'string' ? /^\$\{(\w+)\}$/.exec(state.Resource)?.[1] : undefined;
    if (placeholder === undefined) continue;
    const [logicalId, attribute] = (substitutions[placeholder] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    expect(logicalIdToKey.has(logicalId), `${logicalId} is a function of this service`).toBe(true);
    state.Resource = { 'Fn::GetAtt': [logicalIdToKey.get(logicalId), attribute] };
  }
  return parsed;
}

/** File names in a zip archive (its central directory). */
function zipEntries(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(offset + 28);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return names;
}

// ---- checks ----------------------------------------------------------------------------------

describe('the packaged dev stage', () => {
  it('deploys statemachines/run-pipeline.asl.json unchanged, its Task Resources bound to the same functions', () => {
    const deployed = deployedDefinition();
    // serverless-step-functions spells out the default query language on every state.
    for (const [name, state] of Object.entries(deployed.States)) {
      if (state.QueryLanguage === 'JSONPath' && asl.States[name]?.QueryLanguage === undefined) delete state.QueryLanguage;
    }
    expect(deployed).toEqual(asl);
  });

  it('names the state machine as the functions expect it (STATE_MACHINE_ARN) and logs its executions without their data', () => {
    const [, machine] = resourcesOfType('AWS::StepFunctions::StateMachine')[0]!;
    expect(machine.Properties.StateMachineName).toBe(STATE_MACHINE_NAME);
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    for (const key of ['runPipeline', 'continueAsNew']) expect(arnText(environmentOf(key).STATE_MACHINE_ARN)).toBe(STATE_MACHINE_ARN);
    const logging = machine.Properties.LoggingConfiguration as { Level: string; IncludeExecutionData: boolean; Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: Json } }[] };
    expect(['ERROR', 'ALL']).toContain(logging.Level);
    expect(logging.IncludeExecutionData).toBe(false);
    const logGroup = (logging.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(template.Resources[logGroup]!.Type).toBe('AWS::Logs::LogGroup');
  });

  it('lets the state machine invoke its six task functions and nothing else', () => {
    const [, machine] = resourcesOfType('AWS::StepFunctions::StateMachine')[0]!;
    const statements = roleStatements((machine.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    const invoke = statements.filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
    const invoked = new Set(
      invoke.flatMap(resourcesOf).map((resource) => {
        const direct = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
        const qualified = (resource as { 'Fn::Sub'?: [string, { functionArn: { 'Fn::GetAtt': [string, string] } }] })['Fn::Sub'];
        return (direct ?? qualified![1].functionArn['Fn::GetAtt'])[0];
      }),
    );
    expect([...invoked].sort()).toEqual(taskStates().map(([, state]) => functionLogicalId(taskFunctionKey(state))).sort());
    expect(invoked.size).toBe(6);
    // Besides invoking: only the log delivery actions execution logging needs.
    const others = statements.filter((statement) => !invoke.includes(statement)).flatMap(actionsOf);
    expect(others.every((action) => action.startsWith('logs:'))).toBe(true);
  });

  it('gives Step Functions rights only to the functions that start or describe executions, scoped to this state machine', () => {
    const startAndDescribe = [
      ['states:DescribeExecution', EXECUTIONS_ARN],
      ['states:StartExecution', STATE_MACHINE_ARN],
    ];
    // The run route starts executions; it describes the active run's (stale or alive?) and, on a
    // retried start whose name is taken, its own.
    expect(stepFunctionsGrants('runPipeline').sort()).toEqual(startAndDescribe);
    // ContinueAsNew starts the next execution; a retried hand-over that finds the name taken checks it.
    expect(stepFunctionsGrants('continueAsNew').sort()).toEqual(startAndDescribe);
    // StartRun starts nothing; adopting a run from a console/CLI execution describes the active one.
    expect(stepFunctionsGrants('startRun')).toEqual([['states:DescribeExecution', EXECUTIONS_ARN]]);
    // Reads and pause requests reconcile the active run: they describe its execution, nothing more.
    for (const key of RECONCILING_HTTP_KEYS) expect(stepFunctionsGrants(key), key).toEqual([['states:DescribeExecution', EXECUTIONS_ARN]]);
    // The reconcile function is given the execution's status, error and cause by the event.
    const others = functionKeys().filter((key) => !['runPipeline', 'continueAsNew', 'startRun', ...RECONCILING_HTTP_KEYS].includes(key));
    expect(others).toHaveLength(13);
    expect(others).toContain('reconcileExecution');
    for (const key of others) expect(stepFunctionsGrants(key), key).toEqual([]);
  });

  it('lets EventBridge Scheduler, for this account, assume a role that may only start executions of this state machine', () => {
    const role = template.Resources.SchedulerRole!;
    const trust = role.Properties.AssumeRolePolicyDocument as { Statement: { Effect: string; Principal: Json; Action: Json; Condition: Json }[] };
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': [{ 'Fn::Sub': SCHEDULE_GROUP_ARN }, { 'Fn::Sub': SCHEDULES_ARN }] },
        },
      },
    ]);
    expect(roleStatements('SchedulerRole').map((statement) => [statement.Effect, actionsOf(statement), resourcesOf(statement).map(arnText)])).toEqual([
      ['Allow', ['states:StartExecution'], [STATE_MACHINE_ARN]],
    ]);
  });

  it("keeps the pipelines' schedules in a group of their own, which the functions that create, change and delete pipelines are told about", () => {
    const groups = resourcesOfType('AWS::Scheduler::ScheduleGroup');
    expect(groups.map(([, group]) => group.Properties.Name)).toEqual([SCHEDULE_GROUP]);
    for (const key of SCHEDULE_MANAGERS) {
      expect(environmentOf(key).SCHEDULER_GROUP, key).toBe(SCHEDULE_GROUP);
      expect(environmentOf(key).SCHEDULER_ROLE_ARN, key).toEqual({ 'Fn::GetAtt': ['SchedulerRole', 'Arn'] });
    }
    for (const key of functionKeys().filter((candidate) => !SCHEDULE_MANAGERS.includes(candidate))) expect(environmentOf(key).SCHEDULER_GROUP, key).toBeUndefined();
  });

  it('gives schedule rights only to those three functions: the four schedule actions on that group, and passing the scheduler role to Scheduler only', () => {
    for (const key of functionKeys()) {
      const statements = functionStatements(key).filter((statement) => actionsOf(statement).some((action) => action.startsWith('scheduler:') || action.startsWith('iam:')));
      if (!SCHEDULE_MANAGERS.includes(key)) {
        expect(statements, key).toEqual([]);
        continue;
      }
      expect(statements, key).toEqual([
        {
          Effect: 'Allow',
          Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
          Resource: { 'Fn::Sub': SCHEDULES_ARN },
        },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
      ]);
    }
  });

  it("sends this state machine's executions that end FAILED, TIMED_OUT or ABORTED to the reconcile function, which only that rule may invoke", () => {
    const rules = resourcesOfType('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [{ Ref: 'RunPipelineStateMachine' }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
    });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [functionLogicalId('reconcileExecution'), 'Arn'] } })]);
    const permissions = resourcesOfType('AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(functionLogicalId('reconcileExecution')));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]![1].Properties.Principal).toBe('events.amazonaws.com');
    expect(JSON.stringify(permissions[0]![1].Properties.SourceArn)).toContain(rule.Properties.Name as string);
    expect(ruleId).toMatch(/reconcileExecution/);
    // Its role: its log group and the database URL parameter; no other service.
    const actions = functionStatements('reconcileExecution').flatMap(actionsOf);
    expect(actions.filter((action) => !action.startsWith('logs:') && !action.startsWith('ec2:') && action !== 'kms:Decrypt').sort()).toEqual(['ssm:GetParameter']);
    expect(lambda('reconcileExecution').Timeout as number).toBeLessThanOrEqual(60);
  });

  it('never grants a wildcard action, nor a Step Functions, SSM or KMS action on every resource', () => {
    for (const key of functionKeys()) {
      for (const statement of functionStatements(key)) {
        expect(actionsOf(statement).some((action) => action === '*' || action.endsWith(':*')), `${key}: ${JSON.stringify(statement.Action)}`).toBe(false);
        if (resourcesOf(statement).includes('*')) {
          // Only the EC2 network interface actions of a VPC function take no resource scope.
          expect(actionsOf(statement).every((action) => action.startsWith('ec2:')), `${key}: ${JSON.stringify(statement)}`).toBe(true);
        }
      }
    }
  });

  it("lets each function write its own log group and read exactly the SSM parameters its environment names", () => {
    for (const key of functionKeys()) {
      const statements = functionStatements(key);
      const logTargets = statements.filter((statement) => actionsOf(statement).includes('logs:PutLogEvents')).flatMap(resourcesOf);
      expect(logTargets, key).toContainEqual({ 'Fn::GetAtt': [`${functionLogicalId(key).replace('LambdaFunction', 'LogGroup')}`, 'Arn'] });

      const environment = environmentOf(key);
      const named = Object.entries(environment).filter(([name, value]) => name.endsWith('_PARAM') && value !== '').map(([, value]) => value as string);
      // Named connections: only the parameters under their own path (ETL_CONNECTIONS_SSM_PATH).
      expect(environment.ETL_CONNECTIONS_SSM_PATH, key).toBe('/etl/dev/connections/');
      named.push('/etl/dev/connections/*');
      const readable = statements.filter((statement) => actionsOf(statement).includes('ssm:GetParameter')).flatMap(resourcesOf).map((resource) => arnText(resource) as string);
      expect(readable.map((arn) => arn.replace(/^.*:parameter/, '')).sort(), key).toEqual(named.sort());
      for (const arn of readable) expect(arn).toMatch(/^arn:\$\{AWS::Partition\}:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter\/etl\/dev\//);
    }
  });

  it('requires the API key on every route but GET /health, through a usage plan', () => {
    const methods = resourcesOfType('AWS::ApiGateway::Method').map(([, method]) => {
      const uri = JSON.stringify(method.Properties.Integration);
      const key = functionKeys().find((candidate) => uri.includes(`"${functionLogicalId(candidate)}"`));
      return { key, required: method.Properties.ApiKeyRequired === true };
    });
    expect(methods.map((method) => method.key).sort()).toEqual(httpFunctionKeys().sort());
    expect(methods).toHaveLength(14);
    for (const method of methods) expect(method.required, method.key).toBe(method.key !== 'health');

    const keys = resourcesOfType('AWS::ApiGateway::ApiKey');
    expect(keys).toHaveLength(1);
    expect(keys[0]![1].Properties.Value, 'the key value is generated by API Gateway').toBeUndefined();
    const [, planKey] = resourcesOfType('AWS::ApiGateway::UsagePlanKey')[0]!;
    expect(planKey.Properties.KeyId).toEqual({ Ref: keys[0]![0] });
    const [, plan] = resourcesOfType('AWS::ApiGateway::UsagePlan')[0]!;
    expect(plan.Properties.ApiStages).toEqual([{ ApiId: { Ref: 'ApiGatewayRestApi' }, Stage: STAGE }]);
  });

  it('holds no secret: SSM parameter names only, nothing from the shell environment', () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/postgres(ql)?:\/\//i);
    expect(text).not.toMatch(/:\/\/[^/"\s:@]+:[^/"\s@]+@/); // user:password@ in any URL
    expect(text).not.toMatch(/password|passwd|secret_?key/i);
    for (const value of Object.values(LEAKY_ENVIRONMENT)) expect(text).not.toContain(value);
    for (const key of functionKeys()) {
      const variables = environmentOf(key);
      for (const plain of ['DATABASE_URL', 'ES_URL', 'OPENSEARCH_URL', 'API_KEY']) expect(variables[plain] ?? '', `${key} ${plain}`).toBe('');
      expect(variables.DATABASE_URL_PARAM, key).toBe('/etl/dev/database-url');
    }
    for (const key of ['startRun', 'runBatch', 'completeRun']) {
      expect(environmentOf(key).ES_URL_PARAM).toBe('/etl/dev/es-url');
      expect(environmentOf(key).OPENSEARCH_URL_PARAM).toBe('/etl/dev/opensearch-url');
    }
  });

  it("ends every Lambda before its Task's TimeoutSeconds, and every HTTP function before API Gateway's", () => {
    const tasks = taskStates();
    expect(tasks).toHaveLength(6);
    for (const [name, state] of tasks) {
      const timeout = lambda(taskFunctionKey(state)).Timeout as number;
      expect(typeof state.TimeoutSeconds, name).toBe('number');
      expect(timeout, name).toBeLessThan(state.TimeoutSeconds as number);
    }
    for (const key of httpFunctionKeys()) expect(lambda(key).Timeout as number, key).toBeLessThan(API_GATEWAY_TIMEOUT_SECONDS);
  });

  it('decides the KMS key and VPC choices when packaging: no condition, no KMS or EC2 grant, no implied DependsOn', () => {
    // cfn-lint (npm run lint:cfn) flags conditions on constants and the branch they never take.
    expect(template).not.toHaveProperty('Conditions');
    expect(JSON.stringify(template)).not.toContain('Fn::If');
    for (const key of functionKeys()) {
      const actions = functionStatements(key).flatMap(actionsOf);
      expect(actions.filter((action) => action.startsWith('kms:') || action.startsWith('ec2:')), key).toEqual([]);
    }
    for (const [id, resource] of Object.entries(template.Resources) as [string, Resource & { DependsOn?: string | string[] }][]) {
      const properties = JSON.stringify(resource.Properties ?? {});
      for (const dependency of [resource.DependsOn ?? []].flat()) {
        expect(properties.includes(`"${dependency}"`) || properties.includes(`\${${dependency}.`), `${id} DependsOn ${dependency}`).toBe(false);
      }
    }
  });

  it('builds one Node.js 22 arm64 bundle per function, outside any VPC unless configured', async () => {
    for (const key of functionKeys()) {
      const properties = lambda(key);
      expect(properties.Runtime, key).toBe('nodejs22.x');
      expect(properties.Architectures, key).toEqual(['arm64']);
      expect(properties.VpcConfig, key).toBeUndefined();
      const artifact = path.basename((properties.Code as { S3Key: string }).S3Key);
      const entries = zipEntries(await readFile(path.join(packageDir, artifact)));
      const handlerFile = `${(properties.Handler as string).replace(/\.handler$/, '')}.mjs`;
      expect(entries, key).toContain(handlerFile);
      expect(entries.filter((entry) => entry.endsWith('.mjs')), `${key}: only its own handler`).toEqual([handlerFile]);
    }
  });
});
