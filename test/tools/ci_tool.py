#!/usr/bin/env python3
"""Helpers of the CI recipe tests (test/tools/ci-*.test).

  ci_tool.py compdb OUT_DIR [--flag F]... [--from DB --match REGEX] FILE...
      writes OUT_DIR/compile_commands.json: one entry per FILE (C files with
      clang-22 -std=c11, others with clang++-22 -std=c++17, plus the flags),
      and the entries of the database DB whose file matches REGEX.
  ci_tool.py files DB_DIR            the database's files, sorted, one a line
  ci_tool.py summary SARIF...        one line per result, sorted:
      "<rule> <file name>:<line>:<col> notes=<n>", then "results <n>",
      "runs <n>", "successful <bool>"
  ci_tool.py touched PATCH           the lines scripts/grpc-leak-ci.py counts
      as touched by the patch, one "<file>: <lines>" line per file
  ci_tool.py step WORKFLOW JOB STEP  the `run:` script of the step with that
      id (or name) in that job of a GitHub Actions workflow, after `set -e`
      and the workflow's env: values (where the environment has none)
  ci_tool.py uris SARIF              the URIs (and uriBaseIds) of the results'
      locations, and the run's originalUriBaseIds
  ci_tool.py workflow WORKFLOW       a summary of a GitHub Actions workflow:
      triggers, env, jobs (needs, if, matrix, permissions), steps (actions
      used with their inputs, run steps); MISSING SCRIPT for a
      .grpc-leak-tidy/scripts/X that scripts/ lacks
  ci_tool.py precommit-config OUT HOOK_REPO HOOK_ID [ARG]...
      writes a .pre-commit-config.yaml using HOOK_REPO at its HEAD commit
  ci_tool.py count-commits REPO      the number of commits on HEAD
  ci_tool.py exit-code N COMMAND...  runs COMMAND; fails unless it exits with N
  ci_tool.py bazel-workspace WS OFFLINE ASPECT_REPO
      writes WS/WORKSPACE declaring rules_cc and rules_java from OFFLINE and
      grpc_leak_tidy from ASPECT_REPO
  ci_tool.py codequality FILE        checks a GitLab Code Quality report
      against the fields GitLab documents (a JSON array of objects with
      description, check_name, fingerprint, severity, location.path and
      location.lines.begin: non-empty strings, severity one of info, minor,
      major, critical, blocker, a relative path without "./", a line >= 1,
      fingerprints unique); prints each problem and fails, else one line per
      issue, sorted: "<check> <path>:<line> <fingerprint's first 12>", then
      "issues <n>"
  ci_tool.py codequality-compare OLD NEW
      how the issues of NEW relate to OLD's by fingerprint: "same <check>
      <old line> -> <new line>", "new <check> <line>", "gone <check> <line>"
  ci_tool.py pty-run OUT SECONDS COMMAND...
      runs COMMAND with its stderr on a pseudo-terminal (stdout to
      OUT.stdout), for at most SECONDS; writes what the terminal received to
      OUT with each carriage return shown as "<CR>" and a line break (the
      progress line rewrites itself with them); exits with COMMAND's status
"""

import importlib.util
import json
import os
import re
import subprocess
import sys

SRC_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_script(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(SRC_ROOT, "scripts", filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cmd_compdb(argv):
    out_dir, flags, source_db, match, files = argv[0], [], None, None, []
    i = 1
    while i < len(argv):
        if argv[i] == "--flag":
            flags.append(argv[i + 1])
            i += 2
        elif argv[i] == "--from":
            source_db = argv[i + 1]
            i += 2
        elif argv[i] == "--match":
            match = argv[i + 1]
            i += 2
        else:
            files.append(os.path.abspath(argv[i]))
            i += 1
    entries = []
    if source_db:
        with open(os.path.join(source_db, "compile_commands.json")) as f:
            for entry in json.load(f):
                name = os.path.join(entry["directory"], entry["file"])
                if re.search(match or "", name):
                    entries.append(entry)
    for name in files:
        if name.endswith(".c"):
            command = ["clang-22", "-std=c11"]
        else:
            command = ["clang++-22", "-std=c++17"]
        entries.append({"directory": os.path.dirname(name), "file": name,
                        "arguments": command + flags + ["-c", name]})
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "compile_commands.json"), "w") as f:
        json.dump(entries, f, indent=2)


def cmd_files(argv):
    with open(os.path.join(argv[0], "compile_commands.json")) as f:
        entries = json.load(f)
    for name in sorted({os.path.normpath(os.path.join(e["directory"], e["file"])) for e in entries}):
        print(name)


def cmd_summary(argv):
    lines, runs, successful = [], 0, True
    for path in argv:
        with open(path) as f:
            log = json.load(f)
        for run in log["runs"]:
            runs += 1
            rules = run["tool"]["driver"].get("rules", [])
            ids = [rule["id"] for rule in rules]
            if ids != sorted(ids) or len(ids) != len(set(ids)):
                print("rules not sorted or not unique: %s" % ids)
            for invocation in run.get("invocations", []):
                successful = successful and invocation.get("executionSuccessful", False)
            for result in run.get("results", []):
                if "ruleIndex" in result and rules[result["ruleIndex"]]["id"] != result["ruleId"]:
                    print("bad ruleIndex %s for %s" % (result["ruleIndex"], result["ruleId"]))
                physical = result["locations"][0]["physicalLocation"]
                region = physical["region"]
                lines.append("%s %s:%d:%d notes=%d" % (
                    result["ruleId"], physical["artifactLocation"]["uri"].rsplit("/", 1)[1],
                    region["startLine"], region["startColumn"], len(result.get("relatedLocations", []))))
    for line in sorted(lines):
        print(line)
    print("results %d" % len(lines))
    print("runs %d" % runs)
    print("successful %s" % successful)


def cmd_touched(argv):
    ci = load_script("grpc_leak_ci", "grpc-leak-ci.py")
    with open(argv[0]) as f:
        touched = ci.parse_diff(f.read(), strip=1)
    for name in sorted(touched):
        print("%s: %s" % (name, " ".join(str(n) for n in sorted(touched[name]))))


def cmd_step(argv):
    """The step's run: script, after the workflow's env: values (each one
    unless the environment already sets it) and `set -e` (the runner's
    bash -e)."""
    import shlex
    import yaml
    workflow_path, job, step_id = argv
    with open(workflow_path) as f:
        workflow = yaml.safe_load(f)
    for step in workflow["jobs"][job]["steps"]:
        if step.get("id") == step_id or step.get("name") == step_id:
            print("set -e")
            for key, value in workflow.get("env", {}).items():
                print('[ -n "${%s+set}" ] || export %s=%s' % (key, key, shlex.quote(str(value))))
            sys.stdout.write(step["run"])
            return
    sys.exit("no step %r in job %r" % (step_id, job))


def cmd_uris(argv):
    """Each result location's URI and uriBaseId, sorted and unique."""
    with open(argv[0]) as f:
        log = json.load(f)
    seen = set()
    for run in log["runs"]:
        bases = run.get("originalUriBaseIds", {})
        for base, value in sorted(bases.items()):
            seen.add("base %s %s" % (base, value.get("uri")))
        for result in run.get("results", []):
            for location in result.get("locations", []) + result.get("relatedLocations", []):
                artifact = location["physicalLocation"]["artifactLocation"]
                seen.add("uri %s %s" % (artifact["uri"], artifact.get("uriBaseId", "-")))
    for line in sorted(seen):
        print(line)


def cmd_workflow(argv):
    """A summary of a GitHub Actions workflow, and what is wrong with it for
    these recipes: scripts it runs that scripts/ does not have, ${{ }}
    expressions inside run: scripts."""
    import yaml
    with open(argv[0]) as f:
        workflow = yaml.safe_load(f)
    triggers = workflow.get(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    print("triggers %s" % " ".join(sorted(triggers)))
    print("env %s" % " ".join(sorted(workflow.get("env", {}))))
    print("permissions %s" % workflow.get("permissions"))
    for name, job in workflow["jobs"].items():
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        print("job %s needs=%s if=%s" % (name, ",".join(needs), job.get("if", "")))
        matrix = job.get("strategy", {}).get("matrix")
        if matrix:
            print("  matrix %s" % json.dumps(matrix, sort_keys=True))
        if job.get("permissions"):
            print("  permissions %s" % json.dumps(job["permissions"], sort_keys=True))
        for step in job["steps"]:
            if "uses" in step:
                print("  uses %s %s" % (step["uses"], json.dumps(step.get("with", {}), sort_keys=True)))
            else:
                print("  run %s" % (step.get("id") or step.get("name")))
                script = step["run"]
                if "${{" in script:
                    print("  EXPRESSION IN RUN SCRIPT of %s" % (step.get("id") or step.get("name")))
                for used in re.findall(r"\.grpc-leak-tidy/scripts/([\w.-]+)", script):
                    if not os.path.isfile(os.path.join(SRC_ROOT, "scripts", used)):
                        print("  MISSING SCRIPT %s" % used)


def cmd_precommit_config(argv):
    out, hook_repo, hook_id, hook_args = argv[0], argv[1], argv[2], argv[3:]
    rev = subprocess.run(["git", "-C", hook_repo, "rev-parse", "HEAD"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    config = {"repos": [{"repo": hook_repo, "rev": rev,
                         "hooks": [{"id": i, "args": hook_args} if hook_args else {"id": i}
                                   for i in hook_id.split(",")]}]}
    with open(out, "w") as f:
        json.dump(config, f, indent=2)  # JSON is YAML


def cmd_count_commits(argv):
    done = subprocess.run(["git", "-C", argv[0], "rev-list", "--count", "HEAD"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    print("commits %s" % (done.stdout.strip() if done.returncode == 0 else "0"))


def cmd_bazel_workspace(argv):
    """WORKSPACE for the aspect test: the offline stand-ins, and the aspect's
    repository from this source tree."""
    workspace_dir, offline_dir, aspect_dir = (os.path.abspath(a) for a in argv)
    with open(os.path.join(workspace_dir, "WORKSPACE"), "w") as f:
        f.write('workspace(name = "aspect_test")\n')
        for name in ("rules_cc", "rules_java"):
            f.write('local_repository(name = "%s", path = "%s")\n' % (name, os.path.join(offline_dir, name)))
        f.write('local_repository(name = "grpc_leak_tidy", path = "%s")\n' % aspect_dir)


CODEQUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _codequality_problems(report):
    problems, fingerprints = [], set()
    if not isinstance(report, list):
        return ["the report is not a JSON array"]
    for i, issue in enumerate(report):
        where = "issue %d" % i
        if not isinstance(issue, dict):
            problems.append("%s: not an object" % where)
            continue
        for field in ("description", "check_name", "fingerprint"):
            if not isinstance(issue.get(field), str) or not issue[field]:
                problems.append("%s: %s is not a non-empty string" % (where, field))
        if issue.get("severity") not in CODEQUALITY_SEVERITIES:
            problems.append("%s: severity %r is not one of %s" % (
                where, issue.get("severity"), ", ".join(sorted(CODEQUALITY_SEVERITIES))))
        location = issue.get("location")
        path = location.get("path") if isinstance(location, dict) else None
        if not isinstance(path, str) or not path or path.startswith(("/", "./")):
            problems.append("%s: location.path %r is not a relative path" % (where, path))
        lines = location.get("lines") if isinstance(location, dict) else None
        begin = lines.get("begin") if isinstance(lines, dict) else None
        if not isinstance(begin, int) or isinstance(begin, bool) or begin < 1:
            problems.append("%s: location.lines.begin %r is not a line number" % (where, begin))
        if issue.get("fingerprint") in fingerprints:
            problems.append("%s: fingerprint %s is not unique" % (where, issue.get("fingerprint")))
        fingerprints.add(issue.get("fingerprint"))
    return problems


def cmd_codequality(argv):
    with open(argv[0], encoding="utf-8") as f:
        report = json.load(f)
    problems = _codequality_problems(report)
    for problem in problems:
        print("problem: %s" % problem)
    if problems:
        sys.exit(1)
    for line in sorted("%s %s:%d %s" % (i["check_name"], i["location"]["path"],
                                        i["location"]["lines"]["begin"], i["fingerprint"][:12])
                       for i in report):
        print(line)
    print("issues %d" % len(report))


def cmd_codequality_compare(argv):
    reports = []
    for name in argv[:2]:
        with open(name, encoding="utf-8") as f:
            reports.append({i["fingerprint"]: i for i in json.load(f)})
    old, new = reports
    lines = []
    for fingerprint, issue in new.items():
        line = issue["location"]["lines"]["begin"]
        if fingerprint in old:
            lines.append("same %s %d -> %d" % (issue["check_name"], old[fingerprint]["location"]["lines"]["begin"], line))
        else:
            lines.append("new %s %d" % (issue["check_name"], line))
    for fingerprint, issue in old.items():
        if fingerprint not in new:
            lines.append("gone %s %d" % (issue["check_name"], issue["location"]["lines"]["begin"]))
    for line in sorted(lines):
        print(line)


def cmd_pty_run(argv):
    import pty
    import select
    import time
    out, seconds, command = argv[0], float(argv[1]), argv[2:]
    master, slave = pty.openpty()
    with open(out + ".stdout", "wb") as stdout:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave,
                                start_new_session=True)
    os.close(slave)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            received += chunk
        elif proc.poll() is not None:
            break
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        sys.exit("pty-run: timed out after %g s" % seconds)
    os.close(master)
    text = received.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "<CR>\n")
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    sys.exit(proc.wait())


def cmd_exit_code(argv):
    """Runs the command; succeeds if and only if it exits with the code."""
    code = subprocess.call(argv[1:])
    if code != int(argv[0]):
        sys.exit("expected exit code %s, got %d" % (argv[0], code))


COMMANDS = {"codequality": cmd_codequality, "codequality-compare": cmd_codequality_compare,
            "pty-run": cmd_pty_run, "exit-code": cmd_exit_code, "bazel-workspace": cmd_bazel_workspace, "compdb": cmd_compdb, "files": cmd_files, "summary": cmd_summary,
            "touched": cmd_touched, "step": cmd_step, "precommit-config": cmd_precommit_config,
            "count-commits": cmd_count_commits, "workflow": cmd_workflow, "uris": cmd_uris}

def _ensure_yaml():
    """The workflow commands need PyYAML (python3-yaml); re-run under the
    system Python when this one lacks it (Debian's pre-commit brings it)."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system):
            os.execv(system, [system] + sys.argv)
        sys.exit("ci_tool.py: this command needs PyYAML (Debian: python3-yaml)")


if __name__ == "__main__":
    if sys.argv[1] in ("step", "workflow"):
        _ensure_yaml()
    COMMANDS[sys.argv[1]](sys.argv[2:])
