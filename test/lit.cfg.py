# lit configuration of the grpc-leak-tidy tests.
#
# Every check test runs through one front end, chosen with
# `--param frontend=binary` (grpc-leak-tidy, the default) or
# `--param frontend=plugin` (stock clang-tidy --load=<plugin>): the `check`
# target runs the check tests once with each.
import os
import shlex
import shutil

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

# The SARIF SDK's validator, where scripts/install-sarif-validator.sh put it
# (<build>/sarif-tools): test/tools/sarif-validate.test needs it. Its launcher
# is a node script.
sarif_multitool = os.path.join(config.grpcleak_obj_root, "sarif-tools",
                               "node_modules", ".bin", "sarif-multitool")
if os.path.exists(sarif_multitool) and shutil.which("node"):
    config.available_features.add("sarif-multitool")
    config.substitutions.append(("%sarif_multitool", sarif_multitool))

# CI recipe tests: ci-pre-commit.test needs pre-commit, ci-bazel.test needs
# Bazel (Debian: bazel-bootstrap).
if shutil.which("pre-commit"):
    config.available_features.add("pre-commit")
if shutil.which("bazel"):
    config.available_features.add("bazel")
