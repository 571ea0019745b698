// Public option types of the local Step Functions endpoint and the shared internal shapes.

/** Extra information given to a Task handler; handlers written as `(input) => ...` ignore it. */
export interface TaskContext {
  executionArn: string;
  executionName: string;
  stateMachineArn: string;
  stateName: string;
  /** Aborted when the execution is stopped, times out or the endpoint shuts down. */
  signal: AbortSignal;
}

export interface TaskHandler {
  (input: unknown, context?: TaskContext): Promise<unknown>;
}

export interface LocalStateMachine {
  /** e.g. 'etl-dev-run-pipeline' */
  name: string;
  /** The parsed ASL file. Task Resources may be literal Lambda ARNs or {"Fn::GetAtt": ["<functionKey>", "Arn"]}. */
  definition: object;
  /** Keyed by the function key used in Fn::GetAtt, or by the function name of a literal Lambda ARN. */
  taskHandlers: Record<string, TaskHandler>;
}

export type EndpointLog = (event: Record<string, unknown>) => void;

export interface LocalSfnEndpointOptions {
  host?: string;
  /** 0 picks a free port. Default 8083. */
  port?: number;
  region?: string;
  accountId?: string;
  stateMachines: LocalStateMachine[];
  /** Milliseconds per state name, passed to aws-local-stepfunctions (tests use { RunBatch: 0 }). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Structured log of the execution lifecycle. */
  log?: EndpointLog;
  /** AWS fails an execution whose history reaches 25,000 events; the same limit applies here. */
  maxHistoryEvents?: number;
  /** Finished executions kept in memory (oldest are forgotten first). Default 1000. */
  maxRetainedExecutions?: number;
  /**
   * History events kept for finished executions, all together (oldest executions are forgotten
   * first, the newest is always kept). Default 50,000: two executions at the 25,000-event limit,
   * about 20 MB of history JSON.
   */
  maxRetainedHistoryEvents?: number;
  /**
   * Called when an execution ends, with the detail of the "Step Functions Execution Status
   * Change" event that EventBridge sends in the cloud. A throwing listener is ignored.
   */
  onExecutionEnded?: (change: ExecutionStatusChangeDetail) => void;
}

/** The fields of the EventBridge "Step Functions Execution Status Change" detail the endpoint emits. */
export interface ExecutionStatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate: number;
  input: string;
  error: string | null;
  cause: string | null;
}

export interface LocalSfnEndpoint {
  url: string;
  stateMachineArn(name: string): string;
  stop(): Promise<void>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A Step Functions history event as the JSON protocol returns it (timestamp in epoch seconds). */
export interface HistoryEvent {
  timestamp: number;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}
