# lit configuration of the grpc-leak-tidy tests.
#
# Every check test runs through one front end, chosen with
# `--param frontend=binary` (grpc-leak-tidy, the default) or
# `--param frontend=plugin` (stock clang-tidy --load=<plugin>): the `check`
# target runs the check tests once with each.
import os
import shlex
import shutil
import subprocess

import lit.formats

config.name = "grpc-leak-tidy"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".cpp", ".test"]
config.excludes = ["Inputs", "protos", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.grpcleak_obj_root, "test")

frontend = lit_config.params.get("frontend", "binary")
if frontend == "binary":
    tidy = config.grpc_leak_tidy
elif frontend == "plugin":
    tidy = "%s --load=%s" % (config.clang_tidy, config.grpcleak_plugin)
else:
    lit_config.fatal("frontend must be 'binary' or 'plugin', not %r" % frontend)
config.available_features.add("frontend-" + frontend)
# The LLVM/Clang the build uses (GRPCLEAK_LLVM_VERSION): `llvm-19`, `llvm-22`.
# Only for what Clang, clang-tidy or clangd themselves print or offer; what
# our checks report must not depend on it. Where a test can, it passes the
# setting whose default differs instead (-header-filter, -fbracket-depth).
config.available_features.add("llvm-" + config.llvm_version_major)

runner = os.path.join(config.test_source_root, "tools", "check_grpc_leak.py")
python = config.python_executable

config.environment["FILECHECK"] = os.path.join(config.llvm_tools_dir, "FileCheck")
config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))])
# No user configuration may leak into the tests (clangd reads ~/.config).
# Project summaries (docs/summaries.md) are off in the tests: one test's
# functions must not become another's facts through a shared build
# directory. The tests of summaries turn them on (env -u, or a directory).
config.environment["GRPC_LEAK_SUMMARIES_DIR"] = "off"
config.environment["HOME"] = os.path.join(config.test_exec_root, "home")
config.environment["XDG_CONFIG_HOME"] = os.path.join(config.test_exec_root, "home", ".config")

config.substitutions.append(
    ("%check_grpc_leak", "%s %s --tidy %s" % (python, runner, shlex.quote(tidy))))
config.substitutions.append(("%grpc_flags", "-std=c++17 -I%s" % config.stub_dir))
config.substitutions.append(("%tidy_frontend", tidy))
config.substitutions.append(("%grpc_leak_tidy", config.grpc_leak_tidy))
config.substitutions.append(("%grpc_leak_clangd", config.grpc_leak_clangd))
config.substitutions.append(("%clang_tidy", config.clang_tidy))
config.substitutions.append(("%plugin", config.grpcleak_plugin))
config.substitutions.append(("%unittests", config.grpcleak_unittests))
config.substitutions.append(("%stubs", config.stub_dir))
config.substitutions.append(("%python", python))
config.substitutions.append(("%src_root", config.grpcleak_src_root))
config.substitutions.append(("%build_root", config.grpcleak_obj_root))
config.substitutions.append(("%cmake", config.cmake))
config.substitutions.append(("%tools", os.path.join(config.test_source_root, "tools")))

# Tools some tests need beyond the build's own. scripts/setup-debian.sh
# installs every one; a test whose tool is missing cannot run (lit reports it
# UNSUPPORTED), and tools/test-setup.test then fails, naming what is missing
# and how to install it: a skipped test is a broken setup, never silent.
missing_tools = []


def need(feature, found, how):
    if found:
        config.available_features.add(feature)
    else:
        missing_tools.append("%s (%s)" % (feature, how))


def runs(command):
    try:
        return subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# The SARIF SDK's validator (sarif-validate.test, ci-sarif-validate.test):
# $GRPCLEAK_SARIF_MULTITOOL, else where scripts/install-sarif-validator.sh
# puts it by default (scripts/setup-debian.sh runs it), else <build>/sarif-tools.
# Its launcher is a node script.
sarif_candidates = [
    os.environ.get("GRPCLEAK_SARIF_MULTITOOL", ""),
    os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"),
                 "grpc-leak-tidy", "sarif-tools", "node_modules", ".bin", "sarif-multitool"),
    os.path.join(config.grpcleak_obj_root, "sarif-tools", "node_modules", ".bin", "sarif-multitool"),
]
sarif_multitool = next((c for c in sarif_candidates if c and os.path.exists(c)), None)
need("sarif-multitool", sarif_multitool and shutil.which("node"),
     "scripts/install-sarif-validator.sh, which needs npm and nodejs")
if sarif_multitool:
    config.substitutions.append(("%sarif_multitool", sarif_multitool))

# CI recipe tests: ci-pre-commit.test needs pre-commit, ci-bazel.test needs
# Bazel (Debian: bazel-bootstrap).
need("pre-commit", shutil.which("pre-commit"), "Debian package pre-commit")
need("bazel", shutil.which("bazel"), "Debian package bazel-bootstrap")

# Editor tests (editor-neovim.test, editor-emacs.test): Neovim with its
# built-in LSP client (0.7 or later), Emacs with Eglot.
need("neovim", shutil.which("nvim") and runs(["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n",
                                              "+lua if vim.fn.has('nvim-0.7') ~= 1 then os.exit(1) end",
                                              "+qall!"]),
     "Debian package neovim, 0.7 or later")
need("emacs-eglot", shutil.which("emacs") and runs(["emacs", "--batch", "--eval", "(require 'eglot)"]),
     "Debian packages emacs-nox and elpa-eglot")

# The HTML report's browser test (ci-html.test): Chromium, its WebDriver and
# Selenium, from the Python the tests run with or else Debian's python3 (where
# python3-selenium installs it).
selenium_python = next((p for p in (python, "/usr/bin/python3")
                        if runs([p, "-c", "import selenium.webdriver"])), None)
need("chromium", shutil.which("chromium") and shutil.which("chromedriver") and selenium_python,
     "Debian packages chromium, chromium-driver and python3-selenium")
if selenium_python:
    config.substitutions.append(("%selenium_python", selenium_python))

for tool in missing_tools:
    lit_config.note("missing test tool: %s" % tool)
config.substitutions.append(("%missing_test_tools", "; ".join(missing_tools) or "none"))
