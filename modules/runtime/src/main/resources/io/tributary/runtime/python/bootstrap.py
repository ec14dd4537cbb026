"""Tributary Python runtime bootstrap.

The equivalent of AWS's Python runtime interface client (awslambdaric): it
imports the function named by _HANDLER, then loops on the Lambda Runtime API
(http://$AWS_LAMBDA_RUNTIME_API/2018-06-01), fetching one event at a time,
calling handler(event, context) and posting the result or error back.
Standard library only (Python 3.11+); started as `python3 -u bootstrap.py`
with the function's code directory as working directory.
"""
import decimal
import http.client
import importlib
import json
import logging
import os
import site
import socket
import sys
import time
import traceback
from types import SimpleNamespace

BASE = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_request_id = ""


class Fault(Exception):
    """A runtime-level failure reported with a fixed Runtime.* error type."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []


class RuntimeClient:
    def __init__(self, address):
        self.address = address
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        # One retry on a fresh connection covers a keep-alive connection the server closed while idle.
        for attempt in (1, 2):
            if self.conn is None:
                # No timeout: /invocation/next blocks until the next event arrives.
                self.conn = http.client.HTTPConnection(self.address)
            try:
                self.cork(body, 1)
                self.conn.request(method, BASE + path, body, headers or {})
                self.cork(body, 0)
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def cork(self, body, on):
        # http.client writes a request's headers and its body apart: corked, they leave as one segment, so
        # the Runtime API has the body with the headers instead of reading it as a stream (a third of them).
        if body is not None and hasattr(socket, "TCP_CORK"):
            if self.conn.sock is None:
                self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, on)

    def post(self, path, body, headers=None):
        status, _, data = self.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})
        # 413 is already recorded by the platform as Function.ResponseSizeTooLarge.
        if not 200 <= status < 300 and status != 413:
            print(f"bootstrap: POST {path} returned {status}: {data[:500]!r}", file=sys.stderr, flush=True)

    def post_error(self, path, error):
        self.post(path, json.dumps(error).encode(), {ERROR_TYPE_HEADER: error["errorType"]})


def make_error(error_type, message, request_id, trace):
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}


def error_from_exception(exc, request_id):
    if isinstance(exc, Fault):
        return make_error(exc.error_type, exc.message, request_id, exc.trace)
    # Hide this file's and importlib's frames so the trace starts in user code, as on AWS.
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename not in (__file__, importlib.__file__) and not f.filename.startswith("<frozen importlib")]
    return make_error(type(exc).__name__, str(exc), request_id, traceback.format_list(frames))


JSON_FORMAT = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
# AWS's runtime maps Lambda's TRACE to logging's DEBUG; FATAL is a logging level name already.
LOG_LEVEL = {"TRACE": "DEBUG"}.get((os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper(),
                                   (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper())
_RESERVED = {"name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
             "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
             "processName", "process", "aws_request_id", "tenant_id", "_frame_type", "taskName"}


class JsonFormatter(logging.Formatter):
    """A logging record as AWS's Python runtime writes it in JSON format: one object per line."""

    def format(self, record):
        levelno = min(50, max(0, record.levelno)) // 10 * 10
        exc = record.exc_info
        result = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                         + f".{int(record.msecs):03d}Z",
            "level": logging.getLevelName(levelno),
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        result.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and k not in result)
        return json.dumps({k: v for k, v in result.items() if v is not None}, ensure_ascii=False, default=str)


def log_error(error):
    if JSON_FORMAT:
        # AWS's runtime: the error document with a timestamp (seconds, no zone) and the level, on one line.
        line = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": "ERROR", **error}
        sys.stdout.write(json.dumps(line) + "\n")
        return
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}", "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        lines.extend(element.splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


def setup_logging():
    # AWS installs a root handler before user code loads, so logger.info() shows up once the level is lowered.
    def add_request_id(record):
        record.aws_request_id = _request_id
        return True

    if JSON_FORMAT:
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                                      "%Y-%m-%dT%H:%M:%S")
        formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(add_request_id)
    root = logging.getLogger()
    if LOG_LEVEL in logging.getLevelNamesMapping():
        root.setLevel(LOG_LEVEL)
    root.addHandler(handler)


def load_handler(name):
    modname, _, fname = name.rpartition(".")
    if not modname or not fname:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{name}': not enough values to unpack (expected 2, got 1)")
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {(e.text or "").strip()}\n']
        raise Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {e}", trace) from None
    handler = getattr(module, fname, None)
    if handler is None:
        raise Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'")
    return handler


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, cognito_identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        cognito_identity = cognito_identity or {}
        self.identity = SimpleNamespace(cognito_identity_id=cognito_identity.get("cognitoIdentityId"),
                                        cognito_identity_pool_id=cognito_identity.get("cognitoIdentityPoolId"))
        self.client_context = None
        if client_context:
            client = client_context.get("client")
            if client is not None:
                client = SimpleNamespace(**{k: client.get(k) for k in (
                    "installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")})
            self.client_context = SimpleNamespace(client=client, custom=client_context.get("custom"),
                                                  env=client_context.get("env"))
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self):
        return (f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name},"
                f"function_version={self.function_version},invoked_function_arn={self.invoked_function_arn}])")


def encode_default(obj):
    # boto3's DynamoDB deserializer yields Decimals; AWS's marshaller emits them as plain numbers.
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj.is_finite() and obj.as_tuple().exponent >= 0 else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def parse_json(text, what):
    try:
        return json.loads(text) if text else None
    except ValueError as e:
        raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal {what}: {e}") from None


def flush_output():
    sys.stdout.flush()
    sys.stderr.flush()


def invoke(client, handler, headers, body):
    global _request_id
    request_id = _request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    if headers.get("Lambda-Runtime-Trace-Id"):
        os.environ["_X_AMZN_TRACE_ID"] = headers["Lambda-Runtime-Trace-Id"]
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        event = parse_json(body, "input")
        context = LambdaContext(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
                                headers.get("Lambda-Runtime-Invoked-Function-Arn"),
                                parse_json(headers.get("Lambda-Runtime-Client-Context"), "client context"),
                                parse_json(headers.get("Lambda-Runtime-Cognito-Identity"), "cognito identity"))
        result = handler(event, context)
        try:
            payload = json.dumps(result, default=encode_default).encode()
        except Exception as e:
            raise Fault("Runtime.MarshalError", f"Unable to marshal response: {e}") from None
    except Exception as e:
        error = error_from_exception(e, request_id)
        log_error(error)
        flush_output()
        client.post_error(f"/invocation/{request_id}/error", error)
    else:
        # Flush before posting: the platform closes the invocation's log once the result arrives.
        flush_output()
        client.post(f"/invocation/{request_id}/response", payload)


def main():
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    # As AWS's runtime does for its layers' site-packages: their .pth files take effect.
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry.endswith("site-packages") and os.path.isdir(entry):
            site.addsitedir(entry)
    setup_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        error = error_from_exception(e, "")
        log_error(error)
        flush_output()
        client.post_error("/init/error", error)
        sys.exit(1)
    while True:
        status, headers, body = client.request("GET", "/invocation/next")
        if status != 200:
            raise RuntimeError(f"GET /invocation/next returned {status}: {body[:500]!r}")
        invoke(client, handler, headers, body)


if __name__ == "__main__":
    main()
