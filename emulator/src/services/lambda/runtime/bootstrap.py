"""crts-emulator's Lambda runtime bootstrap: loads one handler, then serves invocations forever.

Protocol (one JSON object per line): once the handler is loaded (the init phase, which AWS does not count in the
function's timeout), {"ready": true} on the original stdout; then requests on stdin {"payload": <str>,
"request_id", "deadline_ms", ...}, results on the original stdout {"ok": <str json>} or {"error": {errorMessage,
errorType, stackTrace}}, each with "log" (what the handler printed). The handler's own print() goes to a capture buffer and stderr,
never to the protocol channel. Keep this file compatible with Python 3.8 (the runbook's runtime).
"""
import importlib
import io
import json
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


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    handler, init_error = load_handler()
    PROTOCOL.write(json.dumps({"ready": True}) + "\n")
    PROTOCOL.flush()
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
        result["log"] = "START RequestId: %s Version: $LATEST\n%sEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\n" % (
            request.get("request_id", ""), log, request.get("request_id", ""), request.get("request_id", ""), elapsed)
        PROTOCOL.write(json.dumps(result) + "\n")
        PROTOCOL.flush()


if __name__ == "__main__":
    threading.Thread(target=exit_with_the_emulator, args=(os.getppid(),), daemon=True).start()
    main()
