#!/usr/bin/env bash
# run-workflow.sh: run one job of a GitHub Actions workflow here, step by step,
# the way a runner would, so that a workflow is tested and not only linted.
#
#   run-workflow.sh [OPTIONS] WORKFLOW JOB     run the job's steps in order
#   run-workflow.sh --list WORKFLOW            list the jobs and their steps
#   run-workflow.sh --extract-scripts DIR WORKFLOW...
#                                              write every run: step to DIR as a
#                                              script for shellcheck (see lint.sh)
#
# Options of a run:
#   -C, --workspace DIR    run the steps in DIR (GITHUB_WORKSPACE; default: .)
#   -e, --env NAME=VALUE   set NAME in every step, over what the workflow, the
#                          job or the step defines (e.g. a service's URL)
#   -s, --secret NAME=VALUE  the value of secrets.NAME; --secret NAME takes it
#                          from the environment variable NAME; unset secrets are ''
#   -i, --input NAME=VALUE the value of inputs.NAME (workflow_dispatch; the
#                          others keep their declared defaults)
#       --event NAME       github.event_name (default: workflow_dispatch when an
#                          input is given, else push when the workflow has it)
#       --skip STEP        do not run the step named STEP (repeatable), e.g. the
#                          build when the programs are already built and on PATH
#       --artifacts DIR    copy what actions/upload-artifact uploads to DIR/NAME
#       --summary FILE     keep the job summary (GITHUB_STEP_SUMMARY) in FILE
#       --cache DIR        what actions/cache restores from and saves to
#
# What it does: each run: step runs in bash (`shell: bash` gives
# `bash --noprofile --norc -eo pipefail`, no shell gives `bash -e`, as on a
# runner) with an environment made of PATH, HOME, the locale and the runner's
# variables (CI, GITHUB_ACTIONS=true, GITHUB_WORKSPACE, RUNNER_TEMP,
# GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY, ...), then the
# workflow's, the job's and the step's env, then --env. ${{ }} expressions in
# env, run, if, with and working-directory are evaluated (contexts github, env,
# secrets, inputs, vars, job, steps, runner; the operators and the functions
# success, failure, always, cancelled, contains, startsWith, endsWith, format,
# join, toJSON, fromJSON); anything else stops the run with exit 2 rather than
# run a step differently from GitHub. if: conditions, continue-on-error,
# timeout-minutes, working-directory, step outputs, GITHUB_ENV and GITHUB_PATH
# work as on GitHub. Secret values, and values a step registers with
# ::add-mask::, are printed as ***. Local composite actions (uses: ./PATH) run
# their steps, shown as "STEP / ACTION STEP": inputs (defaults, with:),
# outputs, ${{ }} in their steps, github.action_path and GITHUB_ACTION_PATH,
# the calling step's env; --skip names a step of either. Other actions do not
# run: checkout is the workspace itself, upload-artifact checks and copies its
# paths, actions/cache restores from and saves to --cache DIR (keyed by key:),
# others are skipped with a note. Service containers are not started: point
# the job at a server with --env.
#
# The YAML reader is Python's PyYAML (Debian: python3-yaml), run with
# /usr/bin/python3 when it has it, else with python3 from PATH
# (RUN_WORKFLOW_PYTHON overrides).
#
# Exit status: 0 the job succeeded, 1 it failed, 2 bad usage or a workflow this
# script cannot run faithfully.
set -euo pipefail

prog=run-workflow

die() {
	echo "$prog: $*" >&2
	exit 2
}

# usage [STATUS]: the option summary above; on stderr unless STATUS is 0.
usage() {
	local status=${1:-2}
	if ((status == 0)); then
		sed -n '5,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	else
		sed -n '5,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	fi
	exit "$status"
}

# find_python: an interpreter that can import yaml.
find_python() {
	local p
	for p in ${RUN_WORKFLOW_PYTHON:-/usr/bin/python3 python3}; do
		if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no python3 with PyYAML found; install it with: apt-get install python3-yaml"
}

read -r -d '' PY <<'PYEOF' || true
import json, math, os, re, shutil, sys
import yaml

class WfError(Exception):
    pass

# --- expressions ----------------------------------------------------------

TOKEN = re.compile(r"""\s*(?:
    (?P<num>0x[0-9a-fA-F]+|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|
    (?P<str>'(?:[^']|'')*')|
    (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])|
    (?P<id>[A-Za-z_][A-Za-z0-9_-]*)
    )""", re.X)

STATUS_FUNCS = re.compile(r"\b(success|failure|always|cancelled)\s*\(", re.I)

def tokenize(src):
    pos, out = 0, []
    src = src.strip()
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise WfError("cannot read the expression at '%s'" % src[pos:])
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    out.append(("end", None))
    return out

def to_num(v):
    if v is None: return 0.0
    if isinstance(v, bool): return 1.0 if v else 0.0
    if isinstance(v, (int, float)): return float(v)
    if isinstance(v, str):
        s = v.strip()
        if s == "": return 0.0
        try:
            return float(int(s, 16)) if s.lower().startswith("0x") else float(s)
        except ValueError:
            return math.nan
    return math.nan

def truthy(v):
    if v is None: return False
    if isinstance(v, bool): return v
    if isinstance(v, (int, float)): return v != 0 and not math.isnan(v)
    if isinstance(v, str): return v != ""
    return True

def to_str(v):
    if v is None: return ""
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, float) and v.is_integer(): return str(int(v))
    if isinstance(v, (int, float, str)): return str(v)
    return json.dumps(v, indent=2)

def loose_eq(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) and not isinstance(a, (dict, list)):
        return a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    x, y = to_num(a), to_num(b)
    return not math.isnan(x) and x == y

def compare(op, a, b):
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.lower(), b.lower()
    else:
        x, y = to_num(a), to_num(b)
        if math.isnan(x) or math.isnan(y):
            return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]

def get_prop(obj, name):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if str(k).lower() == name.lower():
                return v
        return None
    if isinstance(obj, list) and name == "*":
        return obj
    return None

def fmt(template, *args):
    def repl(m):
        if m.group(0) == "{{": return "{"
        if m.group(0) == "}}": return "}"
        i = int(m.group(1))
        if i >= len(args): raise WfError("format: no argument {%d}" % i)
        return to_str(args[i])
    return re.sub(r"\{\{|\}\}|\{(\d+)\}", repl, to_str(template))

class Evaluator:
    def __init__(self, contexts, status):
        self.ctx = contexts
        self.status = status  # "success" or "failure"

    def evaluate(self, src):
        self.toks, self.i, self.src = tokenize(src), 0, src
        v = self.or_()
        if self.peek()[0] != "end":
            raise WfError("unexpected '%s' in expression '%s'" % (self.peek()[1], src))
        return v

    def peek(self): return self.toks[self.i]
    def take(self):
        t = self.toks[self.i]; self.i += 1; return t
    def accept(self, op):
        if self.peek() == ("op", op):
            self.i += 1; return True
        return False
    def expect(self, op):
        if not self.accept(op):
            raise WfError("expected '%s' in expression '%s'" % (op, self.src))

    def or_(self):
        v = self.and_()
        while self.accept("||"):
            r = self.and_()
            v = v if truthy(v) else r
        return v
    def and_(self):
        v = self.eq()
        while self.accept("&&"):
            r = self.eq()
            v = r if truthy(v) else v
        return v
    def eq(self):
        v = self.cmp()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            r = self.cmp()
            v = loose_eq(v, r) if op == "==" else not loose_eq(v, r)
        return v
    def cmp(self):
        v = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("<", "<=", ">", ">="):
            op = self.take()[1]
            v = compare(op, v, self.unary())
        return v
    def unary(self):
        if self.accept("!"):
            return not truthy(self.unary())
        return self.postfix()
    def postfix(self):
        v = self.primary()
        while True:
            if self.accept("."):
                kind, name = self.take()
                if kind == "id" or (kind, name) == ("op", "*"):
                    if isinstance(v, list) and name != "*":
                        v = [get_prop(x, name) for x in v]
                    else:
                        v = get_prop(v, name)
                else:
                    raise WfError("expected a property name in '%s'" % self.src)
            elif self.accept("["):
                key = self.or_()
                self.expect("]")
                if isinstance(v, list):
                    n = to_num(key)
                    v = v[int(n)] if not math.isnan(n) and 0 <= n < len(v) else None
                else:
                    v = get_prop(v, to_str(key))
            else:
                return v
    def primary(self):
        kind, val = self.take()
        if kind == "num":
            return float(int(val, 16)) if val.lower().startswith("0x") else float(val)
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "op" and val == "(":
            v = self.or_(); self.expect(")"); return v
        if kind == "id":
            low = val.lower()
            if low in ("true", "false"): return low == "true"
            if low == "null": return None
            if self.accept("("):
                args = []
                if not self.accept(")"):
                    args.append(self.or_())
                    while self.accept(","):
                        args.append(self.or_())
                    self.expect(")")
                return self.call(low, args)
            if low not in self.ctx:
                raise WfError("context '%s' is not supported here (expression '%s')" % (val, self.src))
            return self.ctx[low]
        raise WfError("unexpected '%s' in expression '%s'" % (val, self.src))

    def call(self, name, a):
        if name == "success": return self.status == "success"
        if name == "failure": return self.status == "failure"
        if name == "always": return True
        if name == "cancelled": return False
        if name == "contains":
            if isinstance(a[0], list): return any(loose_eq(x, a[1]) for x in a[0])
            return to_str(a[1]).lower() in to_str(a[0]).lower()
        if name == "startswith": return to_str(a[0]).lower().startswith(to_str(a[1]).lower())
        if name == "endswith": return to_str(a[0]).lower().endswith(to_str(a[1]).lower())
        if name == "format": return fmt(*a)
        if name == "join":
            sep = to_str(a[1]) if len(a) > 1 else ","
            return sep.join(to_str(x) for x in a[0]) if isinstance(a[0], list) else to_str(a[0])
        if name == "tojson": return json.dumps(a[0], indent=2)
        if name == "fromjson": return json.loads(to_str(a[0]))
        raise WfError("function '%s' is not supported here" % name)

EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)

def template(s, ev):
    if not isinstance(s, str):
        return to_str(s)
    return EXPR.sub(lambda m: to_str(ev.evaluate(m.group(1))), s)

def condition(src, ev):
    if isinstance(src, bool): src = "true" if src else "false"
    src = to_str(src).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", src, re.S)
    if m: src = m.group(1)
    if not STATUS_FUNCS.search(src):
        src = "success() && (%s)" % src
    return truthy(ev.evaluate(src))

# --- the workflow ---------------------------------------------------------

def load(path):
    try:
        with open(path) as f:
            wf = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise WfError("%s: %s" % (path, e))
    if not isinstance(wf, dict) or not isinstance(wf.get("jobs"), dict):
        raise WfError("%s: not a workflow (no jobs)" % path)
    return wf

def triggers(wf):
    on = wf.get("on", wf.get(True))
    if isinstance(on, str): return {on: None}
    if isinstance(on, list): return {t: None for t in on}
    return on or {}

def job_of(wf, path, name):
    job = wf["jobs"].get(name)
    if not isinstance(job, dict):
        raise WfError("%s has no job '%s' (jobs: %s)" % (path, name, ", ".join(wf["jobs"])))
    if "uses" in job:
        raise WfError("job '%s' calls a reusable workflow; run that one instead" % name)
    return job

def step_name(step):
    if step.get("name"): return to_str(step["name"])
    if "uses" in step: return to_str(step["uses"])
    first = to_str(step.get("run", "")).strip().splitlines()
    return "Run " + (first[0] if first else "")

def make_inputs(wf, event, given):
    decl = {}
    for trig in ("workflow_dispatch", "workflow_call"):
        t = triggers(wf).get(trig)
        if isinstance(t, dict) and isinstance(t.get("inputs"), dict):
            decl.update(t["inputs"])
    if event not in ("workflow_dispatch", "workflow_call"):
        if given:
            raise WfError("inputs are given but the event is %s, which has none" % event)
        return {}
    inputs = {}
    for name, spec in decl.items():
        spec = spec or {}
        typ = spec.get("type", "string")
        if "default" in spec:
            v = spec["default"]
        else:
            v = False if typ == "boolean" else ""
        inputs[name] = v
    for name, value in given.items():
        spec = next((s or {} for k, s in decl.items() if k.lower() == name.lower()), None)
        if spec is None:
            raise WfError("the workflow has no input '%s' (inputs: %s)" % (name, ", ".join(decl) or "none"))
        typ = spec.get("type", "string")
        if typ == "boolean":
            if value.lower() not in ("true", "false"):
                raise WfError("input '%s' is a boolean: true or false, not '%s'" % (name, value))
            inputs[name] = value.lower() == "true"
        elif typ == "number":
            inputs[name] = to_num(value)
        elif typ == "choice" and value not in (spec.get("options") or []):
            raise WfError("input '%s' must be one of %s" % (name, ", ".join(map(str, spec.get("options") or []))))
        else:
            inputs[name] = value
    for name, spec in decl.items():
        if (spec or {}).get("required") and to_str(inputs.get(name)) == "":
            raise WfError("input '%s' is required" % name)
    return inputs

def services(job):
    out = {}
    for name, svc in (job.get("services") or {}).items():
        ports = {}
        for p in (svc or {}).get("ports") or []:
            parts = to_str(p).split(":")
            ports[parts[-1]] = parts[-2] if len(parts) > 1 else parts[-1]
        out[name] = {"id": "", "network": "", "ports": ports}
    return out

ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
            "TERM", "TMPDIR", "TZ", "SHELL")

def read_records(path):
    with open(path, "rb") as f:
        data = f.read().decode()
    recs = data.split("\0")
    return recs[:-1] if recs and recs[-1] == "" else recs

def parse_file_commands(path):
    """NAME=VALUE and NAME<<DELIM ... DELIM lines of GITHUB_ENV/GITHUB_OUTPUT."""
    out = {}
    if not os.path.exists(path): return out
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]; i += 1
        if not line.strip(): continue
        m = re.match(r"^([^=<]+)<<(.+)$", line)
        if m:
            name, delim, buf = m.group(1), m.group(2), []
            while i < len(lines) and lines[i] != delim:
                buf.append(lines[i]); i += 1
            if i >= len(lines):
                raise WfError("%s: no closing delimiter '%s' for %s" % (path, delim, name))
            i += 1
            out[name] = "\n".join(buf)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise WfError("%s: cannot read the line '%s'" % (path, line))
    return out

def local_action(workspace, uses):
    """(folder, metadata) of the composite action that uses: ./PATH names."""
    folder = os.path.normpath(os.path.join(workspace, uses))
    for name in ("action.yml", "action.yaml"):
        f = os.path.join(folder, name)
        if os.path.isfile(f):
            break
    else:
        raise WfError("uses: %s: no action.yml in %s" % (uses, folder))
    try:
        with open(f) as fh:
            action = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as e:
        raise WfError("%s: %s" % (f, e))
    runs = action.get("runs") if isinstance(action, dict) else None
    if not isinstance(runs, dict) or runs.get("using") != "composite":
        raise WfError("uses: %s: only composite actions run here (runs.using is %s)"
                      % (uses, to_str((runs or {}).get("using"))))
    return folder, action

def expand(steps, workspace, skip):
    """The job's steps, each local composite action (uses: ./PATH) replaced by
    a start entry, the action's own steps and an end entry. A step skipped
    with --skip is not expanded (its action need not exist)."""
    flat = []
    for k, step in enumerate(steps):
        uses = to_str(step.get("uses", "")) if isinstance(step, dict) else ""
        if not uses.startswith("./") or step_name(step) in skip:
            flat.append({"kind": "step", "outer": k})
            continue
        folder, action = local_action(workspace, uses)
        inner = action["runs"].get("steps") or []
        flat.append({"kind": "start", "outer": k, "path": folder})
        for j, st in enumerate(inner):
            if not isinstance(st, dict):
                raise WfError("uses: %s: step %d is not a mapping" % (uses, j + 1))
            if to_str(st.get("uses", "")).startswith("./"):
                raise WfError("uses: %s: a local action inside an action is not supported here" % uses)
            flat.append({"kind": "inner", "outer": k, "inner": j, "path": folder})
        flat.append({"kind": "end", "outer": k, "path": folder})
    return flat

class Run:
    def __init__(self, state_dir):
        self.dir = state_dir
        self.state = json.load(open(os.path.join(state_dir, "state.json")))
        s = self.state
        self.wf = load(s["workflow"])
        self.job = job_of(self.wf, s["workflow"], s["job"])
        self.outer = self.job.get("steps") or []
        self.flat = expand(self.outer, s["workspace"], s["skip"])
        self.actions = {}

    def action(self, e):
        """The metadata of the action of flat entry e."""
        if e["path"] not in self.actions:
            self.actions[e["path"]] = local_action(self.state["workspace"], e["path"])[1]
        return self.actions[e["path"]]

    def step_of(self, i):
        e = self.flat[i]
        if e["kind"] == "inner":
            return self.action(e)["runs"]["steps"][e["inner"]]
        return self.outer[e["outer"]]

    def scope_of(self, i):
        """The action scope (its inputs, steps, status) step i runs in, or None."""
        e = self.flat[i]
        return self.state["scopes"].get(str(e["outer"])) if e["kind"] == "inner" else None

    def save(self):
        with open(os.path.join(self.dir, "state.json"), "w") as f:
            json.dump(self.state, f)

    def contexts(self, env, scope=None):
        s = self.state
        github = dict(s["github"])
        github["event"] = {"inputs": s["inputs"]}
        ctx = {
            "github": github, "env": env, "secrets": s["secrets"], "inputs": s["inputs"],
            "vars": s["vars"], "steps": s["steps"], "matrix": {}, "strategy": {}, "needs": {},
            "job": {"status": s["status"], "services": services(self.job), "container": {}},
            "runner": {"os": "Linux", "arch": "X64", "name": "local", "temp": s["runner_temp"],
                       "tool_cache": s["runner_temp"]},
        }
        if scope is not None:
            # Inside a composite action: its inputs and its own steps.
            ctx["inputs"], ctx["steps"] = scope["inputs"], scope["steps"]
            github["action_path"] = scope["path"]
        return ctx

    def evaluator(self, env, scope=None):
        status = scope["status"] if scope is not None else self.state["status"]
        return Evaluator(self.contexts(env, scope), status)

    def step_env(self, i):
        """The environment of step i: runner, GITHUB_ENV, workflow, job, step,
        --env; in an action, the calling step's env and then the action step's."""
        s, e = self.state, self.flat[i]
        step, scope = self.outer[e["outer"]], self.scope_of(i)
        env = {k: v for k, v in s["base_env"].items()}
        env.update(s["runner_env"])
        env["GITHUB_OUTPUT"] = os.path.join(self.dir, "files", "output.%d" % i)
        env["GITHUB_ENV"] = os.path.join(self.dir, "files", "env.%d" % i)
        env["GITHUB_PATH"] = os.path.join(self.dir, "files", "path.%d" % i)
        env["GITHUB_ACTION"] = str(step.get("id") or "__run_%d" % i)
        env.update(s["file_env"])
        if s["path"]:
            env["PATH"] = ":".join(list(reversed(s["path"])) + [env.get("PATH", "")])
        for level in (self.wf.get("env"), self.job.get("env"), step.get("env")):
            ev = self.evaluator({k: v for k, v in env.items()})
            for k, v in (level or {}).items():
                env[str(k)] = template(v, ev)
        if e["kind"] == "inner":
            env["GITHUB_ACTION_PATH"] = e["path"]
            ev = self.evaluator({k: v for k, v in env.items()}, scope)
            for k, v in (self.step_of(i).get("env") or {}).items():
                env[str(k)] = template(v, ev)
        env.update(s["overrides"])
        return env

    def start_action(self, i, env):
        """The inputs of the action that flat entry i starts: its defaults, then with:."""
        e, step = self.flat[i], self.outer[self.flat[i]["outer"]]
        ev = self.evaluator(env)
        declared = self.action(e).get("inputs") or {}
        inputs = {}
        for name, spec in declared.items():
            inputs[str(name)] = template((spec or {}).get("default", ""), ev)
        for name, value in (step.get("with") or {}).items():
            key = next((k for k in declared if str(k).lower() == str(name).lower()), None)
            if key is None:
                # GitHub warns and goes on.
                print("::warning::Unexpected input '%s' of %s; valid inputs are %s"
                      % (name, to_str(step["uses"]), ", ".join(map(str, declared)) or "none"),
                      file=sys.stderr)
                continue
            inputs[str(key)] = template(value, ev)
        coe = step.get("continue-on-error", False)
        if not isinstance(coe, bool):
            coe = template(coe, ev).strip().lower() == "true"
        self.state["scopes"][str(e["outer"])] = {
            "inputs": inputs, "steps": {}, "status": "success", "path": e["path"],
            "skipped": False, "continue": coe}

    def end_action(self, i):
        """The action of flat entry i has run: its outputs and outcome become
        the calling step's. Returns the outcome."""
        e, s = self.flat[i], self.state
        step, scope = self.outer[e["outer"]], s["scopes"][str(e["outer"])]
        ev = self.evaluator(self.step_env(i), scope)
        outputs = {}
        for name, spec in (self.action(e).get("outputs") or {}).items():
            outputs[str(name)] = template((spec or {}).get("value", ""), ev)
        result = scope["status"]
        conclusion = "success" if result == "failure" and scope["continue"] else result
        if conclusion == "failure":
            s["status"] = "failure"
            s["failed"].append(step_name(step))
        if step.get("id"):
            s["steps"][step["id"]] = {"outcome": result, "conclusion": conclusion, "outputs": outputs}
        self.save()
        return result

    def prepare(self, i):
        """Write cur/ for step i; return the action for the shell."""
        e, step, cur = self.flat[i], self.step_of(i), os.path.join(self.dir, "cur")
        scope = self.scope_of(i)
        name = step_name(step)
        if e["kind"] == "inner":
            name = "%s / %s" % (step_name(self.outer[e["outer"]]), name)
        with open(os.path.join(cur, "name"), "w") as f:
            f.write(name.replace("\n", " "))
        with open(os.path.join(cur, "label"), "w") as f:
            f.write("%d/%d" % (e["outer"] + 1, len(self.outer)))
        if e["kind"] == "end":
            if self.state["scopes"][str(e["outer"])].get("skipped"):
                return "silent"
            return "end " + self.end_action(i)
        if scope is not None and scope.get("skipped"):
            return "silent"
        if step_name(step) in self.state["skip"]:
            if e["kind"] == "start":
                self.state["scopes"][str(e["outer"])] = {"skipped": True}
                self.save()
            return "skip --skip"
        env = self.step_env(i)
        ev = self.evaluator(env, scope)
        status = scope["status"] if scope is not None else self.state["status"]
        skip = None
        if "if" in step and not condition(step["if"], ev):
            skip = "skip if: %s is false" % to_str(step["if"]).strip()
        elif "if" not in step and status != "success":
            skip = "skip an earlier step failed"
        if e["kind"] == "start":
            if skip:
                self.state["scopes"][str(e["outer"])] = {"skipped": True}
                self.save()
                return skip
            self.start_action(i, env)
            self.save()
            return "start action %s" % to_str(step["uses"])
        if skip:
            return skip
        coe = step.get("continue-on-error", False)
        if not isinstance(coe, bool):
            coe = template(coe, ev).strip().lower() == "true"
        self.state["cur"] = {"id": step.get("id"), "continue": coe}
        self.save()
        if "uses" in step:
            return self.prepare_uses(i, step, ev, cur)
        if "run" not in step:
            raise WfError("step '%s' has neither run nor uses" % name)
        if scope is not None and not step.get("shell"):
            raise WfError("step '%s': a run: step of a composite action needs shell:" % name)
        shell = step.get("shell") or ((self.job.get("defaults") or {}).get("run") or {}).get("shell") \
            or ((self.wf.get("defaults") or {}).get("run") or {}).get("shell")
        script = os.path.join(cur, "script")
        if shell is None:
            argv = ["bash", "-e", script]
        elif shell == "bash":
            argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", script]
        elif shell == "sh":
            argv = ["sh", "-e", script]
        elif "{0}" in shell and shell.split()[0] in ("bash", "sh"):
            argv = [a.replace("{0}", script) for a in shell.split()]
        else:
            raise WfError("step '%s': shell '%s' is not supported here" % (name, shell))
        with open(script, "w") as f:
            f.write(template(step["run"], ev))
        wd = step.get("working-directory") or ((self.job.get("defaults") or {}).get("run") or {}) \
            .get("working-directory") or ((self.wf.get("defaults") or {}).get("run") or {}).get("working-directory") or "."
        wd = os.path.join(self.state["workspace"], template(wd, ev))
        timeout = to_num(template(step.get("timeout-minutes", 0), ev))
        with open(os.path.join(cur, "env"), "w") as f:
            f.write("".join("%s=%s\0" % kv for kv in env.items()))
        with open(os.path.join(cur, "argv"), "w") as f:
            f.write("".join(a + "\0" for a in argv))
        with open(os.path.join(cur, "meta"), "w") as f:
            f.write("%s\n%d\n" % (wd, int(timeout * 60) if timeout > 0 else 0))
        return "run"

    def prepare_uses(self, i, step, ev, cur):
        uses = to_str(step["uses"])
        action = uses.split("@")[0].lower()
        if action == "actions/checkout":
            return "note an action: the workspace is the checkout"
        if action == "actions/cache":
            return self.cache_restore(i, step, ev)
        if action != "actions/upload-artifact":
            return "note an action that does not run here"
        w = step.get("with") or {}
        paths = [p.strip() for p in template(w.get("path", ""), ev).splitlines() if p.strip()]
        with open(os.path.join(cur, "upload"), "w") as f:
            f.write("".join(x + "\0" for x in [template(w.get("name", "artifact"), ev),
                                                 template(w.get("if-no-files-found", "warn"), ev)] + paths))
        return "upload"

    def cache_restore(self, i, step, ev):
        """actions/cache: with --cache DIR, restore path from DIR/KEY, or on a
        miss save it there after a successful job (as the action's post step)."""
        w = step.get("with") or {}
        paths = [p.strip() for p in template(w.get("path", ""), ev).splitlines() if p.strip()]
        key = template(w.get("key", ""), ev)
        if len(paths) != 1 or not key:
            raise WfError("actions/cache: one path and a key are needed here")
        path = os.path.join(self.state["workspace"], paths[0])
        store = self.state["cache_dir"]
        out = os.path.join(self.dir, "files", "output.%d" % i)
        if not store:
            return "note actions/cache: no --cache folder, so nothing is restored"
        entry = os.path.join(store, re.sub(r"[^A-Za-z0-9._-]", "_", key))
        if os.path.isdir(entry):
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(entry, path, symlinks=True)
            with open(out, "w") as f:
                f.write("cache-hit=true\n")
            return "done restored the cache %s" % key
        with open(out, "w") as f:
            f.write("cache-hit=false\n")
        self.state["caches"].append({"path": path, "entry": entry, "key": key})
        self.save()
        return "done no cache %s yet; saved after a successful job" % key

    def post(self):
        """The post steps: actions/cache saves what it did not find."""
        if self.state["status"] != "success":
            return
        for c in self.state["caches"]:
            if os.path.isdir(c["entry"]) or not os.path.isdir(c["path"]):
                continue
            tmp = c["entry"] + ".tmp%d" % os.getpid()
            shutil.copytree(c["path"], tmp, symlinks=True)
            try:
                os.rename(tmp, c["entry"])
                print("post: actions/cache saved %s" % c["key"])
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)

    def finish(self, i, result):
        """Record step i's outcome (success, failure or skipped) and its file commands."""
        s, step, e = self.state, self.step_of(i), self.flat[i]
        scope = self.scope_of(i)
        if e["kind"] == "start":
            # Only a skipped action is recorded here; one that ran, at its end.
            if result == "skipped" and step.get("id"):
                s["steps"][step["id"]] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
            self.save()
            return
        cur = s.pop("cur", None) or {"id": step.get("id"), "continue": False}
        files = os.path.join(self.dir, "files")
        outputs = parse_file_commands(os.path.join(files, "output.%d" % i))
        s["file_env"].update(parse_file_commands(os.path.join(files, "env.%d" % i)))
        p = os.path.join(files, "path.%d" % i)
        if os.path.exists(p):
            s["path"] += [l for l in open(p).read().splitlines() if l.strip()]
        conclusion = result
        if result == "failure" and cur["continue"]:
            conclusion = "success"
        record = s if scope is None else scope
        if conclusion == "failure":
            record["status"] = "failure"
            if scope is None:
                s["failed"].append(step_name(step))
        if cur.get("id"):
            record["steps"][cur["id"]] = {"outcome": result, "conclusion": conclusion, "outputs": outputs}
        self.save()

def init(state_dir, workflow, job_name, cfg_path):
    wf = load(workflow)
    job = job_of(wf, workflow, job_name)
    cfg = {"env": {}, "secret": {}, "input": {}, "skip": [], "event": None, "cache": ""}
    recs = read_records(cfg_path)
    for k in range(0, len(recs), 3):
        kind, name, value = recs[k:k + 3]
        if kind == "skip": cfg["skip"].append(name)
        elif kind == "event": cfg["event"] = name
        elif kind == "cache": cfg["cache"] = name
        else: cfg[kind][name] = value
    trig = triggers(wf)
    event = cfg["event"] or ("workflow_dispatch" if cfg["input"] else
                             "push" if "push" in trig else next(iter(trig), "push"))
    if event not in trig:
        raise WfError("%s is not triggered by %s (triggers: %s)" % (workflow, event, ", ".join(map(str, trig))))
    branch = "main"
    push = trig.get("push")
    if event == "push" and isinstance(push, dict) and push.get("branches"):
        branch = to_str(push["branches"][0])
    steps = job.get("steps") or []
    ws = os.path.abspath(os.environ["RW_WORKSPACE"])
    flat = expand(steps, ws, cfg["skip"])
    names = [step_name(s) for s in steps]
    for e in flat:
        if e["kind"] == "inner":
            folder, action = local_action(ws, e["path"])
            names.append(step_name(action["runs"]["steps"][e["inner"]]))
    for sk in cfg["skip"]:
        if sk not in names:
            raise WfError("job '%s' has no step named '%s' (steps: %s)" % (job_name, sk, "; ".join(names)))
    temp = os.path.join(state_dir, "runner-temp")
    github = {"event_name": event, "ref": "refs/heads/" + branch, "ref_name": branch,
              "sha": "0" * 40, "repository": "local/mig", "repository_owner": "local",
              "workspace": ws, "job": job_name, "run_id": "1", "run_number": "1",
              "run_attempt": "1", "actor": "local", "workflow": to_str(wf.get("name", workflow)),
              "server_url": "https://github.com", "api_url": "https://api.github.com"}
    runner_env = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws,
                  "GITHUB_EVENT_NAME": event, "GITHUB_REF": github["ref"], "GITHUB_REF_NAME": branch,
                  "GITHUB_SHA": github["sha"], "GITHUB_REPOSITORY": github["repository"],
                  "GITHUB_RUN_ID": "1", "GITHUB_RUN_NUMBER": "1", "GITHUB_JOB": job_name,
                  "GITHUB_WORKFLOW": github["workflow"], "GITHUB_ACTOR": "local",
                  "GITHUB_STEP_SUMMARY": os.environ["RW_SUMMARY"],
                  "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TEMP": temp,
                  "RUNNER_TOOL_CACHE": temp}
    state = {
        "workflow": workflow, "job": job_name, "workspace": ws, "runner_temp": temp,
        "github": github, "inputs": make_inputs(wf, event, cfg["input"]),
        "secrets": cfg["secret"], "vars": {}, "overrides": cfg["env"], "skip": cfg["skip"],
        "base_env": {k: os.environ[k] for k in ENV_KEEP if k in os.environ},
        "runner_env": runner_env, "file_env": {}, "path": [], "steps": {},
        "status": "success", "failed": [], "scopes": {}, "caches": [],
        "cache_dir": os.path.abspath(cfg["cache"]) if cfg["cache"] else "",
    }
    os.makedirs(temp)
    os.makedirs(os.path.join(state_dir, "files"))
    os.makedirs(os.path.join(state_dir, "cur"))
    with open(os.path.join(state_dir, "state.json"), "w") as f:
        json.dump(state, f)
    with open(os.path.join(state_dir, "masks"), "w") as f:
        for v in cfg["secret"].values():
            for line in v.splitlines():
                if line.strip(): f.write(line + "\n")
    print("%d %d" % (len(flat), len(steps)))
    print("event %s, ref %s" % (event, github["ref"]))
    for name, svc in (job.get("services") or {}).items():
        print("service %s (%s) is not started here; --env points the job at a server"
              % (name, to_str((svc or {}).get("image"))))

def listing(workflow):
    wf = load(workflow)
    for name, job in wf["jobs"].items():
        print(name)
        for s in (job or {}).get("steps") or []:
            print("  " + step_name(s))

def extract(out_dir, workflows):
    """Every run: step as DIR/NNN.sh; DIR/index: file, workflow, line of its first line, step."""
    n = 0
    with open(os.path.join(out_dir, "index"), "w") as index:
        for wfpath in workflows:
            root = yaml.compose(open(wfpath))
            keys = {k.value: v for k, v in root.value}
            if "runs" in keys:
                # An action's metadata: its steps, under the name "action".
                jobs = [(yaml.ScalarNode("tag:yaml.org,2002:str", "action"), keys["runs"])]
            else:
                load(wfpath)
                jobs = keys["jobs"].value
            for jk, job in jobs:
                steps = next((v for k, v in job.value if k.value == "steps"), None)
                for step in (steps.value if steps is not None else []):
                    kv = {k.value: v for k, v in step.value}
                    if "run" not in kv: continue
                    node = kv["run"]
                    shell = kv["shell"].value if "shell" in kv else "bash"
                    first = node.start_mark.line + (2 if node.style in ("|", ">") else 1)
                    n += 1
                    f = os.path.join(out_dir, "%03d.sh" % n)
                    body = EXPR.sub(lambda m: "_expr_", node.value)
                    with open(f, "w") as out:
                        out.write("#!/bin/%s\n" % ("sh" if shell == "sh" else "bash"))
                        out.write(body)
                    name = kv["name"].value if "name" in kv else "run"
                    index.write("%s\t%s\t%d\t%s/%s\n" % (f, wfpath, first, jk.value, name))

def main(argv):
    mode = argv[1]
    try:
        if mode == "init": init(*argv[2:6])
        elif mode == "list": listing(argv[2])
        elif mode == "extract": extract(argv[2], argv[3:])
        elif mode == "prepare": print(Run(argv[2]).prepare(int(argv[3])))
        elif mode == "finish": Run(argv[2]).finish(int(argv[3]), argv[4])
        elif mode == "post": Run(argv[2]).post()
        elif mode == "status":
            s = Run(argv[2]).state
            print(s["status"]); print("; ".join(s["failed"]))
    except WfError as e:
        print("run-workflow: %s" % e, file=sys.stderr)
        sys.exit(2)

main(sys.argv)
PYEOF

# mask_output MASKS: copy stdin to stdout with every line of the file MASKS
# replaced by ***; ::add-mask::VALUE lines add VALUE (to MASKS too) and are
# not shown, as on a runner.
mask_output() {
	awk -v masks="$1" '
	function masked(s,    i, m, out, p) {
		for (i = 1; i <= n; i++) {
			m = mask[i]
			out = ""
			while ((p = index(s, m)) > 0) {
				out = out substr(s, 1, p - 1) "***"
				s = substr(s, p + length(m))
			}
			s = out s
		}
		return s
	}
	BEGIN {
		while ((getline line <masks) > 0)
			if (line != "") mask[++n] = line
		close(masks)
	}
	/^::add-mask::/ {
		v = substr($0, 13)
		if (v != "") { mask[++n] = v; print v >>masks; fflush(masks) }
		next
	}
	{ print masked($0); fflush() }'
}

# run_step I: run the prepared step I; its exit status.
run_step() {
	local cur=$state/cur workdir limit rc
	local -a envs argv
	mapfile -d '' envs <"$cur/env"
	mapfile -d '' argv <"$cur/argv"
	{ read -r workdir; read -r limit; } <"$cur/meta"
	[[ -d $workdir ]] || {
		echo "$prog: working-directory $workdir does not exist" >&2
		return 1
	}
	if ((limit > 0)); then argv=(timeout --kill-after=10 "$limit" "${argv[@]}"); fi
	set +e
	(cd "$workdir" && exec env -i "${envs[@]}" "${argv[@]}") </dev/null 2>&1 | mask_output "$state/masks"
	rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}

# upload_step: what actions/upload-artifact would do with the prepared step.
upload_step() {
	local -a rec
	local name missing_policy p found=0 dest=''
	mapfile -d '' rec <"$state/cur/upload"
	name=${rec[0]} missing_policy=${rec[1]}
	if [[ -n $artifacts ]]; then
		dest=$artifacts/$name
		mkdir -p "$dest"
	fi
	for p in "${rec[@]:2}"; do
		[[ $p == /* ]] || p=$workspace/$p
		if [[ -f $p || (-d $p && -n $(ls -A "$p")) ]]; then
			found=1
			echo "artifact $name: ${p#"$workspace"/}"
			# A directory is uploaded as its contents, as upload-artifact does.
			if [[ -n $dest && -d $p ]]; then
				cp -R "$p/." "$dest/"
			elif [[ -n $dest ]]; then
				cp "$p" "$dest/"
			fi
		fi
	done
	if ((found == 0)); then
		case $missing_policy in
		error)
			echo "::error::no files were found for the artifact $name"
			return 1
			;;
		ignore) ;;
		*) echo "::warning::no files were found for the artifact $name" ;;
		esac
	fi
	return 0
}

cmd_run() {
	local workflow=$1 job=$2 n nouter i action name label rc info
	[[ -f $workflow ]] || die "no such workflow: $workflow"
	[[ -d $workspace ]] || die "no such workspace: $workspace"
	state=$(mktemp -d "${TMPDIR:-/tmp}/run-workflow.XXXXXX")
	trap 'rm -rf "$state" "$cfg"' EXIT
	RW_WORKSPACE=$workspace RW_SUMMARY=${summary:-$state/summary.md} \
		"$python" -c "$PY" init "$state" "$workflow" "$job" "$cfg" >"$state/init" || exit 2
	: >"${summary:-$state/summary.md}"
	read -r n nouter <"$state/init"
	echo "$prog: $workflow, job $job: $nouter steps"
	tail -n +2 "$state/init" | sed "s/^/$prog: /"
	for ((i = 0; i < n; i++)); do
		action=$("$python" -c "$PY" prepare "$state" "$i") || exit 2
		name=$(<"$state/cur/name")
		label=$(<"$state/cur/label")
		case $action in
		run | upload)
			echo "==> [$label] $name"
			rc=0
			if [[ $action == run ]]; then run_step || rc=$?; else upload_step || rc=$?; fi
			if ((rc == 0)); then
				"$python" -c "$PY" finish "$state" "$i" success || exit 2
			else
				echo "==> [$label] $name: failed (exit $rc)"
				"$python" -c "$PY" finish "$state" "$i" failure || exit 2
			fi
			;;
		note*)
			echo "==> [$label] $name: not run (${action#note })"
			"$python" -c "$PY" finish "$state" "$i" success || exit 2
			;;
		done*)
			echo "==> [$label] $name: ${action#done }"
			"$python" -c "$PY" finish "$state" "$i" success || exit 2
			;;
		start*)
			# A composite action: its steps follow as "NAME / STEP".
			echo "==> [$label] $name (${action#start })"
			"$python" -c "$PY" finish "$state" "$i" success || exit 2
			;;
		skip*)
			echo "==> [$label] $name: skipped (${action#skip })"
			"$python" -c "$PY" finish "$state" "$i" skipped || exit 2
			;;
		"end failure") echo "==> [$label] $name: failed (a step of the action failed)" ;;
		end* | silent) ;;
		esac
	done
	"$python" -c "$PY" post "$state" || exit 2
	if [[ -z $summary && -s $state/summary.md ]]; then
		echo "==> job summary"
		mask_output "$state/masks" <"$state/summary.md"
	fi
	info=$("$python" -c "$PY" status "$state") || exit 2
	if [[ ${info%%$'\n'*} == success ]]; then
		echo "job $job: success"
		return 0
	fi
	echo "job $job: failure (failed: ${info#*$'\n'})"
	return 1
}

# lint.sh's entry: every run: step of WORKFLOW... as a script in DIR.
cmd_extract() {
	local dir=$1
	shift
	[[ -d $dir ]] || die "no such directory: $dir"
	(($# > 0)) || usage
	"$python" -c "$PY" extract "$dir" "$@" || exit 2
}

workspace=. summary='' artifacts='' mode=run
cfg=$(mktemp "${TMPDIR:-/tmp}/run-workflow-cfg.XXXXXX")
trap 'rm -f "$cfg"' EXIT
# record KIND NAME VALUE: one option for the Python side, NUL-separated.
record() { printf '%s\0%s\0%s\0' "$1" "$2" "$3" >>"$cfg"; }
# pair KIND ARG: NAME=VALUE, or NAME alone for a secret taken from the environment.
pair() {
	local kind=$1 arg=$2
	if [[ $arg == *=* ]]; then
		[[ -n ${arg%%=*} ]] || die "--$kind needs NAME=VALUE"
		record "$kind" "${arg%%=*}" "${arg#*=}"
	elif [[ $kind == secret && $arg =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
		record secret "$arg" "${!arg-}"
	else
		die "--$kind needs NAME=VALUE, not '$arg'"
	fi
}

while (($# > 0)); do
	case $1 in
	-C | --workspace) (($# >= 2)) || usage; workspace=$2; shift 2 ;;
	-e | --env) (($# >= 2)) || usage; pair env "$2"; shift 2 ;;
	-s | --secret) (($# >= 2)) || usage; pair secret "$2"; shift 2 ;;
	-i | --input) (($# >= 2)) || usage; pair input "$2"; shift 2 ;;
	--event) (($# >= 2)) || usage; record event "$2" ""; shift 2 ;;
	--skip) (($# >= 2)) || usage; record skip "$2" ""; shift 2 ;;
	--artifacts) (($# >= 2)) || usage; artifacts=$2; shift 2 ;;
	--summary) (($# >= 2)) || usage; summary=$2; shift 2 ;;
	--cache) (($# >= 2)) || usage; mkdir -p "$2"; record cache "$2" ""; shift 2 ;;
	--list) mode=list; shift ;;
	--extract-scripts) (($# >= 2)) || usage; mode=extract; extract_dir=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) die "unknown option: $1 (--help lists them)" ;;
	*) break ;;
	esac
done

python=$(find_python)
case $mode in
list) (($# == 1)) || usage; "$python" -c "$PY" list "$1" || exit 2 ;;
extract) cmd_extract "$extract_dir" "$@" ;;
run)
	(($# == 2)) || usage
	if [[ -n $artifacts ]]; then
		mkdir -p "$artifacts"
		artifacts=$(cd "$artifacts" && pwd)
	fi
	if [[ -n $summary ]]; then
		: >"$summary"
		summary=$(cd "$(dirname "$summary")" && pwd)/$(basename "$summary")
	fi
	workspace=$(cd "$workspace" 2>/dev/null && pwd) || die "no such workspace: $workspace"
	workflow=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	cmd_run "$workflow" "$2"
	;;
esac
