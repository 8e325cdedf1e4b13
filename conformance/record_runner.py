"""Record what the real `chaos run` / `chaos validate` (chaostoolkit 1.21.4, chaostoolkit-lib
1.45.1) send for the experiments of examples/experiments/, for runner/tests/conformance.rs.

For each scenario of SCENARIOS this script starts one loopback HTTP server (the
notification sink on /events plus the tiny service the http experiments probe), runs
`chaos --no-version-check --no-log-file --settings S <command> …` in a fresh temporary
directory, and writes conformance/runner/<scenario>.json with the exit code, the
journal file and every envelope received, normalised (see normalise()).

Scenarios with signals run chaos in the background and send each signal to its process
once the experiment has touched the named file (so the signal lands in the same activity
on every run); the recording lists them under "signals" for the replay.

The PYTHON_SCENARIOS run experiments of examples/experiments/python/ whose activities and
controls are Python: runner/tests/fixtures/python (ctkacts.py, ctkctl.py) is put on PYTHONPATH,
the recording control appends every hook call to $NOTIFIER_CONTROL_LOG (<tmp>/controls.jsonl),
and the recording keeps that log under "controls", the settings added for the scenario
(global controls, runtime strategies) under "settings", and chaostoolkit's ERROR lines.

Run it through conformance/run_ctk_runner.sh, which builds the Python environment; give
scenario names as arguments to re-record only those.
"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "runner"
PY_FIXTURES = ROOT / "runner" / "tests" / "fixtures" / "python"

# name, command, experiment, extra arguments. "<tmp>" is the scenario's temporary
# directory and "<service>" the base URL of the loopback service; the Rust test
# replaces them with its own.
SCENARIOS = [
    ("validate-local-health", "validate", "local-health.json", []),
    ("validate-local-health-yaml", "validate", "local-health.yaml", []),
    ("validate-invalid", "validate", "invalid-no-description.json", []),
    ("run-local-health", "run", "local-health.json", []),
    ("run-local-health-yaml", "run", "local-health.yaml", []),
    ("run-local-health-dry", "run", "local-health.json", ["--dry", "activities"]),
    ("run-invalid", "run", "invalid-no-description.json", []),
    ("run-steady-state-not-met", "run", "steady-state-not-met.json", []),
    ("run-deviated", "run", "deviated.json", ["--var", "marker=<tmp>/marker"]),
    (
        "run-deviated-rollbacks-never",
        "run",
        "deviated.json",
        ["--var", "marker=<tmp>/marker", "--rollback-strategy", "never"],
    ),
    (
        "run-deviated-rollbacks-deviated",
        "run",
        "deviated.json",
        ["--var", "marker=<tmp>/marker", "--rollback-strategy", "deviated"],
    ),
    ("run-failing-probe", "run", "failing-probe.json", []),
    (
        "run-failing-probe-rollbacks-always",
        "run",
        "failing-probe.json",
        ["--rollback-strategy", "always"],
    ),
    ("run-method-failure", "run", "method-failure.json", []),
    ("run-http-health", "run", "http-health.json", ["--var", "service_url=<service>"]),
    # Values whose text depends on Python (float repr, YAML 1.1 booleans and octals).
    ("run-python-values", "run", "python-values.json", []),
    ("run-python-values-yaml", "run", "python-values.yaml", []),
    # Interruption by signals (chaostoolkit-lib's exit_signals + the CLI's
    # SignalRecorder): each signal is sent to the chaos process (not its group) once the
    # named file exists in the scenario's directory.
    ("run-sigint", "run", "long-action.json", ["--var", "dir=<tmp>"], [("SIGINT", "method-started")]),
    ("run-sigterm", "run", "long-action.json", ["--var", "dir=<tmp>"], [("SIGTERM", "method-started")]),
    (
        "run-sigint-rollbacks-always",
        "run",
        "long-action.json",
        ["--var", "dir=<tmp>", "--rollback-strategy", "always"],
        [("SIGINT", "method-started")],
    ),
    (
        "run-sigterm-rollbacks-always",
        "run",
        "long-action.json",
        ["--var", "dir=<tmp>", "--rollback-strategy", "always"],
        [("SIGTERM", "method-started")],
    ),
    (
        "run-sigint-twice-rollbacks-always",
        "run",
        "long-action.json",
        ["--var", "dir=<tmp>", "--var", "rollback_seconds=30", "--rollback-strategy", "always"],
        [("SIGINT", "method-started"), ("SIGINT", "rollback-started")],
    ),
    (
        "run-sigterm-twice-rollbacks-always",
        "run",
        "long-action.json",
        ["--var", "dir=<tmp>", "--var", "rollback_seconds=30", "--rollback-strategy", "always"],
        [("SIGTERM", "method-started"), ("SIGTERM", "rollback-started")],
    ),
    (
        "run-sigusr1-rollbacks-always",
        "run",
        "long-action.json",
        ["--var", "dir=<tmp>", "--rollback-strategy", "always"],
        [("SIGUSR1", "method-started")],
    ),
    (
        "run-sigusr2-rollbacks-always",
        "run",
        "long-action.json",
        ["--var", "dir=<tmp>", "--rollback-strategy", "always"],
        [("SIGUSR2", "method-started")],
    ),
    # The during-method hypothesis. The experiment synchronises the method with the
    # probe's runs through files, so the iterations are the same on every run.
    (
        "run-during-method-only",
        "run",
        "during-method.json",
        ["--var", "dir=<tmp>", "--hypothesis-strategy", "during-method-only"],
    ),
    (
        "run-during-method-only-fail-fast",
        "run",
        "during-method.json",
        [
            "--var", "dir=<tmp>", "--var", "linger=1",
            "--hypothesis-strategy", "during-method-only", "--hypothesis-frequency", "0.5", "--fail-fast",
        ],
    ),
    (
        "run-continuously",
        "run",
        "during-method.json",
        ["--var", "dir=<tmp>", "--var", "first=3", "--var", "second=4", "--hypothesis-strategy", "continuously"],
    ),
    (
        "run-continuously-fail-fast",
        "run",
        "during-method.json",
        [
            "--var", "dir=<tmp>", "--var", "first=3", "--var", "second=4", "--var", "linger=1",
            "--hypothesis-strategy", "continuously", "--hypothesis-frequency", "0.5", "--fail-fast",
        ],
    ),
    (
        "run-during-probe-error",
        "run",
        "missing-probe-executable.json",
        ["--no-validation", "--hypothesis-strategy", "during-method-only"],
    ),
    ("run-method-missing-executable", "run", "missing-executable.json", ["--no-validation"]),
]

# Python providers and controls. Keys: name, experiment (under examples/experiments/), args,
# command ("run"), files (created empty in <tmp>/work first), settings (YAML added to the
# settings file), signals ([(signal, file under <tmp>)]). <tmp>/work is the experiments' DIR.
GLOBAL_CONTROL = """controls:
  G:
    provider:
      type: python
      module: ctkctl
      arguments:
        label: G
"""
PYTHON_SCENARIOS = [
    # chaostoolkit's own CLI fixtures, in shape: os.path.exists probes, runtime strategies.
    {
        "name": "python-check-file-exists",
        "experiment": "python/check-file-exists.json",
        "args": ["--var", "file=<tmp>/work/dummy.txt"],
        "files": ["dummy.txt"],
    },
    {
        "name": "python-check-file-exists-deviated",
        "experiment": "python/check-file-exists-deviated.json",
        "args": ["--var", "file=<tmp>/work/dummy.txt"],
        "files": ["dummy.txt"],
    },
    {"name": "python-check-file-exists-fail", "experiment": "python/check-file-exists-fail.json", "args": []},
    {
        "name": "python-settings-runtime-rollbacks-always",
        "experiment": "python/check-file-exists-fail.json",
        "args": [],
        "settings": "runtime:\n  rollbacks:\n    strategy: always\n",
    },
    {
        "name": "python-override-rollbacks-runtime-strategy",
        "experiment": "python/override-rollbacks-runtime-strategy.json",
        "args": ["--var", "file=<tmp>/work/dummy.txt"],
        "files": ["dummy.txt"],
    },
    {
        "name": "python-override-hypothesis-runtime-strategy",
        "experiment": "python/override-hypothesis-runtime-strategy.json",
        "args": [],
        "settings": "runtime:\n  rollbacks:\n    strategy: always\n",
    },
    # The documentation's simple walkthrough, in shape, with standard-library providers.
    {
        "name": "python-walkthrough",
        "experiment": "python/walkthrough.json",
        "args": ["--var", "dir=<tmp>/work"],
        "files": ["cert.pem"],
    },
    # Python activities: failures, validation, an unexpected error, tolerance probes,
    # configuration and secrets.
    {"name": "python-failing-action", "experiment": "python/failing-action.json", "args": []},
    {"name": "python-validate-missing-function", "command": "validate", "experiment": "python/missing-function.json", "args": []},
    {"name": "python-run-missing-function", "experiment": "python/missing-function.json", "args": []},
    {
        "name": "python-run-missing-function-no-validation",
        "experiment": "python/missing-function.json",
        "args": ["--no-validation"],
    },
    {"name": "python-validate-bad-arguments", "command": "validate", "experiment": "python/bad-arguments.json", "args": []},
    {"name": "python-validate-missing-module", "command": "validate", "experiment": "python/missing-module.json", "args": []},
    {
        "name": "python-tolerance-probe-met",
        "experiment": "python/tolerance-probe.json",
        "args": ["--var", "dir=<tmp>/work", "--var", "maximum:int=1"],
    },
    {
        "name": "python-tolerance-probe-deviated",
        "experiment": "python/tolerance-probe.json",
        "args": ["--var", "dir=<tmp>/work", "--var", "maximum:int=0"],
    },
    {"name": "python-configuration-and-secrets", "experiment": "python/configuration-and-secrets.json", "args": []},
    # Controls at every level, without and with a global control from the settings.
    {"name": "python-controls", "experiment": "python/controls.json", "args": []},
    {"name": "python-controls-global", "experiment": "python/controls.json", "args": [], "settings": GLOBAL_CONTROL},
    {"name": "python-validate-controls", "command": "validate", "experiment": "python/controls.json", "args": []},
    {
        "name": "python-controls-dry",
        "experiment": "python/controls.json",
        "args": ["--dry", "activities"],
        "settings": GLOBAL_CONTROL,
    },
    # Failing hooks: a global whose configure_control raises is dropped; a hook raising
    # changes nothing.
    {
        "name": "python-global-configure-fails",
        "experiment": "python/controls.json",
        "args": [],
        "settings": GLOBAL_CONTROL + "        fail: configure_control\n",
    },
    {
        "name": "python-hook-fails",
        "experiment": "python/interrupt-from-control.json",
        "args": [],
        "settings": GLOBAL_CONTROL + "        fail: before_activity_control:m1\n",
    },
    # InterruptExecution raised by a control hook.
    {
        "name": "python-interrupt-before-experiment",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=before_experiment_control"],
    },
    {
        "name": "python-interrupt-before-hypothesis",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=before_hypothesis_control"],
    },
    {
        "name": "python-interrupt-before-method",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=before_method_control"],
    },
    {
        "name": "python-interrupt-before-method-rollbacks-always",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=before_method_control", "--rollback-strategy", "always"],
    },
    {
        "name": "python-interrupt-after-activity",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=after_activity_control:m1"],
    },
    {
        "name": "python-interrupt-before-rollback",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=before_rollback_control"],
    },
    {
        "name": "python-interrupt-after-experiment",
        "experiment": "python/interrupt-from-control.json",
        "args": ["--var", "interrupt_at=after_experiment_control"],
    },
    # A signal while a python function sleeps (time.sleep).
    {
        "name": "python-sigint-sleep",
        "experiment": "python/sleep-interrupted.json",
        "args": ["--var", "dir=<tmp>/work"],
        "signals": [("SIGINT", "work/sleeping")],
    },
    {
        "name": "python-sigterm-sleep",
        "experiment": "python/sleep-interrupted.json",
        "args": ["--var", "dir=<tmp>/work"],
        "signals": [("SIGTERM", "work/sleeping")],
    },
    {
        "name": "python-sigint-sleep-rollbacks-always",
        "experiment": "python/sleep-interrupted.json",
        "args": ["--var", "dir=<tmp>/work", "--rollback-strategy", "always"],
        "signals": [("SIGINT", "work/sleeping")],
    },
]


class Handler(BaseHTTPRequestHandler):
    """/events records a notification; the other paths are the probed service."""

    def log_message(self, *args):  # keep the console quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self._body()
        if self.path == "/events":
            self.server.events.append(json.loads(body))
            self._send(200, "application/json", b'{"ok": true}')
        elif self.path == "/action":
            received = json.loads(body) if body else None
            self._send(200, "application/json", json.dumps({"received": received}).encode())
        else:
            self._send(404, "text/plain", b"not found\n")

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, "application/json", json.dumps({"status": "ok"}).encode())
        elif path == "/text":
            self._send(200, "text/plain", b"healthy\n")
        elif path == "/status/503":
            self._send(503, "text/plain", b"unavailable\n")
        else:
            self._send(404, "text/plain", b"not found\n")


def normalise_exception(lines):
    """Python keeps the whole traceback; keep its last line as `Kind: message`."""
    if not lines:
        return lines
    last = lines[-1].strip()
    kind, _, message = last.partition(": ")
    return [f"{kind.rsplit('.', 1)[-1]}: {message}\n"]


CONNECT = re.compile(r"(failed to connect to \S+?): .*", re.S)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def normalise(value, ctx, key=None):
    """Make a payload comparable across runs and implementations.

    * the runner version key (`chaoslib-version`, `notifier-version`) → `<runner-version>`
      with the value `<version>`; `platform` → `<platform>`, `node` → `<node>`;
    * `start`/`end` → `<time>`, `duration` → `<duration>`, the envelope's `ts` → `<ts>`;
    * `exception` lists → their last line, `Kind: message` without the module path;
    * the reason after `failed to connect to URL:` → `<reason>` (Python and Rust HTTP
      stacks word it differently);
    * the `headers` of an http activity's output → `<headers>` (server-specific);
    * the scenario's temporary directory → `<tmp>`, the service base URL → `<service>`.
    """
    if isinstance(value, dict):
        out = {}
        is_http_output = set(value) == {"status", "headers", "body"}
        for k, v in value.items():
            if k in ("chaoslib-version", "notifier-version"):
                out["<runner-version>"] = "<version>"
            elif k == "platform" and isinstance(v, str):
                out[k] = "<platform>"
            elif k == "node" and isinstance(v, str):
                out[k] = "<node>"
            elif k in ("start", "end") and isinstance(v, str):
                out[k] = "<time>"
            elif k == "duration" and isinstance(v, (int, float)):
                out[k] = "<duration>"
            elif k == "ts" and isinstance(v, (int, float)):
                out[k] = "<ts>"
            elif k == "exception" and isinstance(v, list):
                out[k] = [normalise(x, ctx) for x in normalise_exception(v)]
            elif k == "headers" and is_http_output:
                out[k] = "<headers>"
            else:
                out[k] = normalise(v, ctx, k)
        return out
    if isinstance(value, list):
        return [normalise(v, ctx) for v in value]
    if isinstance(value, str):
        value = value.replace(ctx["tmp"], "<tmp>").replace(ctx["service"], "<service>")
        return CONNECT.sub(r"\1: <reason>", value)
    return value


def send_signals(proc, tmp, signals, log):
    """Send each (signal name, file) once the file exists in `tmp` (60 s at most)."""
    for name, marker in signals:
        path = os.path.join(tmp, marker)
        deadline = time.monotonic() + 60
        while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is not None:
            log.append(f"{name}: the process had already exited")
            return
        # Let the process settle in its wait for the child.
        time.sleep(0.2)
        os.kill(proc.pid, getattr(signal, name))
        log.append(f"{name} sent after {marker}")


def run_scenario(name, command, experiment, extra, signals, server, chaos, settings_path, versions, python=None):
    tmp = tempfile.mkdtemp(prefix="ctk-runner-")
    try:
        service = f"http://127.0.0.1:{server.server_address[1]}"
        ctx = {"tmp": tmp, "service": service}
        args = [a.replace("<tmp>", tmp).replace("<service>", service) for a in extra]
        journal_path = os.path.join(tmp, "journal.json")
        exp_path = str(ROOT / "examples" / "experiments" / experiment)
        env = None
        control_log = os.path.join(tmp, "controls.jsonl")
        if python is not None:
            os.makedirs(os.path.join(tmp, "work"))
            for f in python.get("files", []):
                open(os.path.join(tmp, "work", f), "w").close()
            env = dict(os.environ, PYTHONPATH=str(PY_FIXTURES), NOTIFIER_CONTROL_LOG=control_log)
            if python.get("settings"):
                scenario_settings = os.path.join(tmp, "settings.yaml")
                with open(settings_path) as f, open(scenario_settings, "w") as out:
                    out.write(f.read() + python["settings"])
                settings_path = scenario_settings
        cmd = [chaos, "--no-version-check", "--no-log-file", "--settings", settings_path, command]
        if command == "run":
            cmd += ["--journal-path", journal_path]
        cmd += args + [exp_path]
        server.events.clear()
        proc = subprocess.Popen(
            cmd,
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Default dispositions, whatever this script inherited (a background job
            # ignores SIGINT).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        sent = []
        sender = threading.Thread(target=send_signals, args=(proc, tmp, signals, sent))
        sender.start()
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=120)
        elapsed = time.monotonic() - started
        sender.join()
        proc.stdout, proc.stderr = stdout, stderr
        journal = None
        if os.path.exists(journal_path):
            with open(journal_path) as f:
                journal = normalise(json.load(f), ctx)
        record = {
            "scenario": name,
            "command": command,
            "experiment": f"examples/experiments/{experiment}",
            "args": extra,
            "exit_code": proc.returncode,
            "journal": journal,
            "events": [normalise(e, ctx) for e in server.events],
            "recorded_with": versions,
        }
        if signals:
            record["signals"] = [{"signal": sig, "after": f"<tmp>/{marker}"} for sig, marker in signals]
        if python is not None:
            record["python"] = True
            record["settings"] = python.get("settings", "")
            record["files"] = python.get("files", [])
            controls = []
            if os.path.exists(control_log):
                with open(control_log) as f:
                    controls = [normalise(json.loads(line), ctx) for line in f if line.strip()]
            record["controls"] = controls
            # chaostoolkit's ERROR lines (a validation error's message), without the date.
            record["errors"] = [
                normalise(line.split(" ERROR] ", 1)[1].strip(), ctx)
                for line in ANSI.sub("", stdout + stderr).splitlines()
                if " ERROR] " in line
            ]
        with open(OUT / f"{name}.json", "w") as f:
            json.dump(record, f, indent=2, ensure_ascii=False)
            f.write("\n")
        names = [e["name"] for e in server.events]
        print(f"{name}: exit {proc.returncode} in {elapsed:.1f}s, events {names}" + (f", {sent}" if signals else ""))
        if proc.returncode not in (0, 1):
            print(proc.stdout, proc.stderr, file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    import importlib.metadata as md

    chaos = shutil.which("chaos", path=os.path.dirname(sys.executable))
    if not chaos:
        sys.exit("record_runner.py: `chaos` is not installed next to this Python")
    versions = {
        "chaostoolkit": md.version("chaostoolkit"),
        "chaostoolkit-lib": md.version("chaostoolkit-lib"),
        "jsonpath2": md.version("jsonpath2"),
        "python": sys.version.split()[0],
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.events = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OUT.mkdir(exist_ok=True)
    if len(sys.argv) == 1:
        # A full recording replaces every golden; naming scenarios re-records those only.
        for stale in OUT.glob("*.json"):
            stale.unlink()
    with tempfile.TemporaryDirectory() as d:
        settings_path = os.path.join(d, "settings.yaml")
        with open(settings_path, "w") as f:
            f.write(
                "notifications:\n"
                "  - type: http\n"
                f"    url: http://127.0.0.1:{server.server_address[1]}/events\n"
            )
        only = set(sys.argv[1:])
        for name, command, experiment, extra, *signals in SCENARIOS:
            if only and name not in only:
                continue
            signals = signals[0] if signals else []
            run_scenario(name, command, experiment, extra, signals, server, chaos, settings_path, versions)
        for scenario in PYTHON_SCENARIOS:
            if only and scenario["name"] not in only:
                continue
            run_scenario(
                scenario["name"],
                scenario.get("command", "run"),
                scenario["experiment"],
                scenario["args"],
                scenario.get("signals", []),
                server,
                chaos,
                settings_path,
                versions,
                python=scenario,
            )
    server.shutdown()


if __name__ == "__main__":
    main()
