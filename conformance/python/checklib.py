"""Named checks with a JSON result: what every conformance script reports.

A script runs each check through Report.check(name, fn); a check passes when fn returns (its
return value, if any, is the detail) and fails with the reason when it raises. The result file is
{"suite", "complete", "passed", "failed", "checks": [{"name", "ok", "detail", "ms"}]}; the Java
integration tests turn every entry into a test of that name. "complete" is false when the script
stopped early, so a crash can never pass as "no failures".
"""
import json
import sys
import time
import traceback


class CheckFailed(Exception):
    """A check's expectation did not hold; the message says what was expected and what came."""


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def rpc_error_text(e):
    """'CODE: details' for a grpc.RpcError, else the exception's own text."""
    code = getattr(e, "code", None)
    if callable(code):
        try:
            return "%s: %s" % (e.code().name, e.details())
        except Exception:  # an RpcError that is not a Call
            pass
    return "%s: %s" % (type(e).__name__, e)


class Report:
    def __init__(self, suite):
        self.suite = suite
        self.checks = []
        self.complete = False

    def check(self, name, fn, *args, **kwargs):
        start = time.monotonic()
        try:
            detail = fn(*args, **kwargs)
            entry = {"name": name, "ok": True, "detail": "" if detail is None else str(detail)}
        except CheckFailed as e:
            entry = {"name": name, "ok": False, "detail": str(e)}
        except Exception as e:  # a client error is a failed check, not the end of the run
            text = rpc_error_text(e)
            if not hasattr(e, "code"):
                text += "\n" + "".join(traceback.format_exception(e)[-3:])
            entry = {"name": name, "ok": False, "detail": text}
        entry["ms"] = round((time.monotonic() - start) * 1000, 1)
        self.checks.append(entry)
        status = "PASS" if entry["ok"] else "FAIL"
        first_line = entry["detail"].splitlines()[0] if entry["detail"] else ""
        print("%s %s %s" % (status, name, first_line), flush=True)
        return entry["ok"]

    def write(self, path):
        failed = sum(1 for c in self.checks if not c["ok"])
        result = {
            "suite": self.suite,
            "complete": self.complete,
            "passed": len(self.checks) - failed,
            "failed": failed,
            "checks": self.checks,
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
        print("%s: %d passed, %d failed" % (self.suite, len(self.checks) - failed, failed), flush=True)
        return failed


def run(report, path, body):
    """Runs body(report), writes the result whatever happens; exit code 0 only if all passed."""
    try:
        body(report)
        report.complete = True
    except Exception:
        traceback.print_exc()
    failed = report.write(path)
    sys.exit(0 if report.complete and failed == 0 else 1)
