"""Long-lived worker that runs AIOSv1PolicyRule classes for the gateway's PythonRuntime.

Protocol: one JSON request per line on stdin, one JSON response per line on stdout.
  {"id", "op": "eval", "key", "uri", "code", "settings", "parameters", "eval_parameters", "input", "context"}
      -> {"id", "ok": true, "output", "context"}
  {"id", "op": "extract", "archive_base64"} -> {"id", "ok": true, "code", "requirements"}
  {"id", "op": "ping"} -> {"id", "ok": true}
  any failure -> {"id", "ok": false, "error": "<ExceptionType: message>"}

Usage: python3 -I -u policy_runner.py [memory_limit_bytes]
Standard library only.
"""

import base64
import builtins
import io
import json
import os
import resource
import signal
import sys
import tarfile
import types
import zipfile
from collections import OrderedDict

DEFAULT_MEMORY_LIMIT = 512 * 1024 * 1024
MAX_WARM_RULES = 128
MAX_MEMBER_BYTES = 10 * 1024 * 1024


def set_limits(memory_limit):
    def lower(limit, value):
        try:
            _soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY and hard < value:
                value = hard
            # Lowering the hard limit too, so rule code cannot raise the soft one back.
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError, TypeError):
            pass

    lower(resource.RLIMIT_AS, memory_limit)
    lower(resource.RLIMIT_NOFILE, 64)
    lower(resource.RLIMIT_CORE, 0)
    lower(getattr(resource, "RLIMIT_NPROC", None), 0)


def die_with_parent():
    # If the gateway is SIGKILLed while a rule loops forever, stdin EOF is never read; ask
    # Linux to kill us when the parent goes away (PR_SET_PDEATHSIG = 1). Best effort.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass


def take_protocol_fds():
    """Moves the protocol pipes to private fds so rule code cannot read or corrupt them:
    fd 0 becomes /dev/null, fd 1 (and sys.stdout) goes to stderr."""
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    return os.fdopen(proto_in, "rb"), os.fdopen(proto_out, "wb")


def error_text(exc):
    message = str(exc) or ("memory limit exceeded" if isinstance(exc, MemoryError) else "")
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class Rules:
    def __init__(self):
        self.warm = OrderedDict()  # key -> instance, least recently used first
        self.loaded = 0

    def instance(self, req):
        key = req["key"]
        inst = self.warm.get(key)
        if inst is not None:
            self.warm.move_to_end(key)
            return inst
        self.loaded += 1
        # A real module in sys.modules, so dataclasses, pickle and typing work inside rules.
        name = f"aios_policy_rule_{self.loaded}"
        module = types.ModuleType(name)
        module.__file__ = "function.py"
        module.__builtins__ = builtins
        sys.modules[name] = module
        try:
            exec(compile(req["code"], f"<policy {req['uri']}>/function.py", "exec"), module.__dict__)
            cls = module.__dict__.get("AIOSv1PolicyRule")
            if not isinstance(cls, type):
                raise LookupError("function.py does not define class AIOSv1PolicyRule")
            inst = cls(req["uri"], req.get("settings") or {}, req.get("parameters") or {})
        except BaseException:
            sys.modules.pop(name, None)
            raise
        self.warm[key] = inst
        if len(self.warm) > MAX_WARM_RULES:
            self.warm.popitem(last=False)
        return inst

    def evaluate(self, req):
        context = req.get("context")
        if not isinstance(context, dict):
            context = {}
        try:
            inst = self.instance(req)
            output = inst.eval(req.get("eval_parameters") or {}, req.get("input"), context)
        except MemoryError:
            # The instance may be what holds the memory; drop it so the next call starts clean.
            self.warm.pop(req["key"], None)
            raise
        return {"output": output, "context": context}


def read_member(read, size, name):
    if size > MAX_MEMBER_BYTES:
        raise ValueError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes")
    return read().decode("utf-8-sig")


def extract(req):
    """Reads code/function.py and code/requirements.txt from a zip or tar(.gz/.xz), in memory."""
    data = base64.b64decode(req["archive_base64"], validate=True)
    wanted = {"code/function.py": None, "code/requirements.txt": None}

    def normal(name):
        while name.startswith("./"):
            name = name[2:]
        return name

    buf = io.BytesIO(data)
    if zipfile.is_zipfile(buf):
        with zipfile.ZipFile(buf) as zf:
            for info in zf.infolist():
                name = normal(info.filename)
                if name in wanted and not info.is_dir():
                    wanted[name] = read_member(lambda: zf.read(info), info.file_size, name)
    else:
        buf.seek(0)
        try:
            tf = tarfile.open(fileobj=buf, mode="r:*")
        except tarfile.TarError:
            raise ValueError("not a zip or tar archive") from None
        with tf:
            for member in tf.getmembers():
                name = normal(member.name)
                if name in wanted and member.isfile():
                    wanted[name] = read_member(lambda: tf.extractfile(member).read(), member.size, name)
    if wanted["code/function.py"] is None:
        raise FileNotFoundError("archive has no code/function.py (expected top-level directory code/)")
    return {"code": wanted["code/function.py"], "requirements": wanted["code/requirements.txt"]}


def encode(resp):
    try:
        return json.dumps(resp, default=str, allow_nan=False).encode("ascii")
    except Exception as exc:  # circular structure, NaN, unencodable keys...
        return json.dumps(
            {"id": resp.get("id"), "ok": False, "error": f"output is not JSON: {error_text(exc)}"}
        ).encode("ascii")


def main():
    limit = DEFAULT_MEMORY_LIMIT
    arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("POLICY_RUNNER_MEMORY_LIMIT")
    if arg:
        limit = int(arg)
    # Ctrl-C in a terminal reaches the whole process group; the gateway decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    proto_in, proto_out = take_protocol_fds()
    set_limits(limit)
    rules = Rules()

    for line in proto_in:
        if not line.strip():
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            op = req.get("op")
            if op == "eval":
                resp = rules.evaluate(req)
            elif op == "extract":
                resp = extract(req)
            elif op == "ping":
                resp = {}
            else:
                raise ValueError(f"unknown op {op!r}")
            resp = {"id": req_id, "ok": True, **resp}
        except (Exception, SystemExit) as exc:  # a rule's sys.exit() must not stop the worker
            resp = {"id": req_id, "ok": False, "error": error_text(exc)}
        finally:
            sys.stdout = sys.__stderr__  # in case the rule replaced it
        proto_out.write(encode(resp) + b"\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
