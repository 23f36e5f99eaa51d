"""crts-emulator's Lambda runtime bootstrap: starts the runtime, loads one function's handler, then serves its
invocations forever.

Protocol (one JSON object per line). `python bootstrap.py [MODULE...]` first imports the modules named (boto3: what
the runtime has ready before any function's code is loaded) and says {"loaded": [top-level modules it imported]} on
the original stdout. It then waits on stdin for {"init": {"env": {...}, "task_root": ...}}: the execution
environment it becomes (the emulator starts one ahead, a "spare", and gives it to the function that needs a new
worker). It takes that environment, imports the handler (the init phase, which AWS does not count in the function's
timeout) and says {"ready": true}; then requests come on stdin {"payload": <str>, "request_id", "deadline_ms", ...},
results go to the original stdout {"ok": <str json>} or {"error": {errorMessage, errorType, stackTrace}}, each with
"log" (what the handler printed). The handler's own print() goes to a capture buffer and stderr, never to the
protocol channel. Keep this file compatible with Python 3.8 (the runbook's runtime).
"""
import importlib
import io
import json
import math
import os
import sys
import threading
import time
import traceback

PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


class Context(object):
    def __init__(self, request):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = request.get("function_arn", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request.get("request_id", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = request.get("deadline_ms", 0)

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


class Tee(io.TextIOBase):
    """Captures what the handler prints for the invocation's log, and still writes it to stderr."""

    def __init__(self):
        self.buffer_ = io.StringIO()

    def write(self, text):
        self.buffer_.write(text)
        sys.__stderr__.write(text)
        return len(text)

    def flush(self):
        sys.__stderr__.flush()


def error(error_type, message, stack=None):
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}


def load_handler():
    spec = os.environ.get("_HANDLER", "")
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        return None, error("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack" % spec)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        return None, error("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        return None, error("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e))
    except Exception as e:
        stack = traceback.format_tb(e.__traceback__)
        return None, error(type(e).__name__, str(e), stack)
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, error("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler, None


def exit_with_the_emulator(parent):
    """A worker must not outlive the emulator that started it, even one killed with SIGKILL (which cannot tell
    its children): once re-parented, the worker exits, busy handler or not."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def max_memory_used_mb():
    """The worker's peak resident memory, as REPORT's "Max Memory Used" (ru_maxrss is in KiB on Linux)."""
    try:
        import resource
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    except Exception:
        return 0


def report_line(request_id, elapsed_ms, init_ms):
    """Lambda's REPORT line: duration, billed duration (whole milliseconds, rounded up), memory, and the init
    duration on an execution environment's first invocation."""
    line = "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %s MB\tMax Memory Used: %d MB" % (
        request_id, elapsed_ms, int(math.ceil(elapsed_ms)), os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        max_memory_used_mb())
    if init_ms is not None:
        line += "\tInit Duration: %.2f ms" % init_ms
    return line + "\t\n"


def seconds_since_process_start():
    """How long ago this process started (Linux: /proc), so that "Init Duration" counts the interpreter's start,
    as Lambda's does; None where that cannot be read."""
    try:
        with open("/proc/self/stat") as stat:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0]) - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def send(message):
    PROTOCOL.write(json.dumps(message) + "\n")
    PROTOCOL.flush()


def top_level(modules):
    return set(name.partition(".")[0] for name in modules)


def main():
    before = set(sys.modules)
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except Exception:
            pass  # the handler's own import of it fails the same way, and says so
    # What a function's code could otherwise have imported from its own files: the emulator gives this runtime
    # only to functions whose code holds none of these names.
    send({"loaded": sorted(top_level(sys.modules) - top_level(before))})
    del sys.argv[1:]  # the handler sees the argv of a runtime started for it
    since_start = seconds_since_process_start()
    boot_ms = since_start * 1000 if since_start is not None else 0.0

    line = sys.stdin.readline()
    if not line:
        return
    init = json.loads(line)["init"]
    init_started = time.time()
    os.environ.clear()
    os.environ.update(init["env"])
    os.chdir(init["task_root"])
    sys.path.insert(0, init["task_root"])
    handler, init_error = load_handler()
    # Lambda's "Init Duration": the runtime's start and the handler's import, not the time spent waiting as a spare.
    init_ms = boot_ms + (time.time() - init_started) * 1000
    send({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        tee = Tee()
        sys.stdout = tee
        started = time.time()
        sys.__stderr__.write("START RequestId: %s Version: $LATEST\n" % request.get("request_id", ""))
        try:
            if init_error is not None:
                result = {"error": init_error}
            else:
                event = json.loads(request["payload"]) if request.get("payload") else {}
                value = handler(event, Context(request))
                try:
                    result = {"ok": json.dumps(value)}
                except (TypeError, ValueError) as e:
                    result = {"error": error("Runtime.MarshalError", "Unable to marshal response: %s" % e)}
        except Exception as e:
            stack = traceback.format_tb(e.__traceback__)[1:]
            result = {"error": error(type(e).__name__, str(e), [s for s in stack])}
        finally:
            sys.stdout = sys.stderr
        elapsed = (time.time() - started) * 1000
        log = tee.buffer_.getvalue()
        if log and not log.endswith("\n"):
            log += "\n"
        if "error" in result:
            # The Python runtime logs an unhandled error as one event: "[ERROR] <type>: <message>" and its
            # traceback, its lines joined by carriage returns.
            failure = result["error"]
            lines = ["[ERROR] %s: %s" % (failure.get("errorType", ""), failure.get("errorMessage", ""))]
            if failure.get("stackTrace"):
                lines.append("Traceback (most recent call last):")
                lines.extend(line.rstrip("\n") for line in failure["stackTrace"])
            log += "\r".join(lines).replace("\n", "\r") + "\n"
        request_id = request.get("request_id", "")
        result["log"] = "START RequestId: %s Version: $LATEST\n%sEND RequestId: %s\n%s" % (
            request_id, log, request_id, report_line(request_id, elapsed, init_ms))
        init_ms = None
        send(result)


if __name__ == "__main__":
    threading.Thread(target=exit_with_the_emulator, args=(os.getppid(),), daemon=True).start()
    main()
