"""
A LocalStack Lambda runtime executor that runs each execution environment as a Node.js process on
the host instead of a Docker container (LAMBDA_RUNTIME_EXECUTOR=etl-host).

LocalStack drives an execution environment through its ExecutorEndpoint: it POSTs each invocation
to the environment's /invoke and waits until the environment POSTs the result (or the error) back
to LocalStack's /_localstack_lambda/<executor id>/invocations/<request id>/response|error; at
start the environment reports /status/<executor id>/ready (or /error). In a container the
lambda-runtime-init binary speaks that protocol; here localstack/host/bootstrap.mjs does: it
loads the deployed handler from the unzipped code (the esbuild bundle of the deployment zip) and
runs one invocation at a time.

What Lambda does and this does too: one process per execution environment, kept warm for
LAMBDA_KEEPALIVE_MS; the function timeout, enforced from here (a handler that blocks the event
loop cannot time itself out) by killing the process and answering "Task timed out", after which
the next invocation starts a fresh process, as Lambda re-initialises a sandbox; a process that
dies mid-invocation answers Runtime.ExitError. What it does not: memory limits, the declared
architecture, the container filesystem (/var/task is the unzipped code under LocalStack's
temporary directory), network isolation.
"""

import json
import logging
import os
import shutil
import signal
import subprocess
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from pathlib import Path

import requests

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# localstack/host/executor/ -> localstack/host/bootstrap.mjs; the repository root resolves the
# packages the Lambda runtime provides (@aws-sdk/*), as /var/runtime/node_modules does on AWS.
BOOTSTRAP = Path(os.environ.get("ETL_LAMBDA_BOOTSTRAP") or HERE.parent / "bootstrap.mjs")
MODULES_ROOT = Path(os.environ.get("ETL_LAMBDA_MODULES_ROOT") or HERE.parents[2])
NODE = os.environ.get("ETL_LAMBDA_NODE") or shutil.which("node") or "node"
# Function output (one file per execution environment) and the pids of live function processes.
LOG_DIR = Path(os.environ.get("ETL_LAMBDA_LOG_DIR") or Path(config.dirs.tmp) / "etl-lambda")
# Variables of LocalStack's own process a function process may see; everything else comes from
# the function's configuration, as in a container.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")
STARTUP_TIMEOUT_SECONDS = 30


class HostRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1", container_port=self.port)
        self.process: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.lock = threading.Lock()
        name = function_version.id.function_name
        self.log_path = LOG_DIR / f"{name}-{self.id}.log"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        self.executor_endpoint.start()
        code_dir = self.function_version.config.code.get_unzipped_code_location()
        env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        env.update({name: str(value) for name, value in env_vars.items()})
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(code_dir),
                "ETL_HOST_RUNTIME_PORT": str(self.port),
                "ETL_LAMBDA_MODULES_ROOT": str(MODULES_ROOT),
            }
        )
        self.env = env
        self._spawn()
        self.executor_endpoint.wait_for_startup()

    def _spawn(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Same process group as LocalStack: stopping LocalStack's group ends every function.
            self.process = subprocess.Popen(
                [NODE, str(BOOTSTRAP)],
                cwd=self.env["LAMBDA_TASK_ROOT"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        (LOG_DIR / f"{self.process.pid}.pid").write_text(self.function_version.id.function_name)
        LOG.debug("started %s (pid %s) for %s", NODE, self.process.pid, self.function_version.qualified_arn)
        threading.Thread(target=self._watch, args=(self.process,), daemon=True, name=f"etl-host-{self.id}").start()

    def _watch(self, process: subprocess.Popen) -> None:
        """A process that ends while an invocation waits answers it, as Lambda's Runtime.ExitError does."""
        code = process.wait()
        (LOG_DIR / f"{process.pid}.pid").unlink(missing_ok=True)
        future = self.executor_endpoint.invocation_future
        if future is not None and not future.done() and process is self.process:
            error = {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: exit status {code}"}
            future.set_result(InvocationResult("", json.dumps(error).encode(), is_error=True, logs=self._tail()))
        startup = self.executor_endpoint.startup_future
        if startup is not None and not startup.done():
            startup.set_exception(LambdaRuntimeException(f"function process exited with status {code} during init:\n{self._tail()}"))

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        # Not under the lock: stopping (keepalive, deletion, shutdown) must not wait for a
        # running invocation; the killed process's invocation is cancelled by shutdown().
        self._kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # noqa: BLE001 - shutting down: nothing left to report to
            LOG.debug("error while stopping the executor endpoint of %s: %s", self.id, e)

    # -- invocations ------------------------------------------------------------------------

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                # The previous invocation timed out or the process died: a fresh one, like a
                # re-initialised sandbox.
                self.executor_endpoint.startup_future = Future()
                self._spawn()
                self.executor_endpoint.startup_future.result(timeout=STARTUP_TIMEOUT_SECONDS)
            endpoint = self.executor_endpoint
            endpoint.invocation_future = Future()
            endpoint.logs = None
            response = requests.post(f"http://127.0.0.1:{self.port}/invoke", json=payload, proxies={"http": "", "https": ""}, timeout=10)
            if not response.ok:
                raise LambdaRuntimeException(f"the function process refused the invocation: HTTP {response.status_code}")
            timeout = float(self.function_version.config.timeout)
            try:
                # A little grace: the process reports its own result first when it can.
                return endpoint.invocation_future.result(timeout=timeout + 1)
            except FutureTimeoutError:
                self._kill()
                message = f"RequestId: {payload['invoke-id']} Error: Task timed out after {timeout:.2f} seconds"
                error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
                return InvocationResult(payload["invoke-id"], json.dumps(error).encode(), is_error=True, logs=self._tail())

    def _tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- addresses and logs -----------------------------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "no output"

    # -- versions ---------------------------------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # Unzips the deployment package under LocalStack's temporary directory (TMPDIR/lambda/...).
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        if not shutil.which(NODE):
            LOG.error("etl-host Lambda executor: no Node.js at %s (set ETL_LAMBDA_NODE)", NODE)
            return False
        if not BOOTSTRAP.is_file():
            LOG.error("etl-host Lambda executor: %s is missing (set ETL_LAMBDA_BOOTSTRAP)", BOOTSTRAP)
            return False
        return True


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "etl-host"

    def load(self, *args, **kwargs):
        return HostRuntimeExecutor
