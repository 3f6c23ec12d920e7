"""grpc-leak-tidy as a Bazel aspect: the grpc-leak-* checks over cc_* targets.

    bazel build //... \\
      --aspects @grpc_leak_tidy//:grpc_leak_tidy.bzl%grpc_leak_tidy_aspect \\
      --output_groups=grpc_leak_tidy \\
      --@grpc_leak_tidy//:tidy=/path/to/grpc-leak-tidy

For every C/C++ source file in the `srcs` of every target that provides
CcInfo (cc_library, cc_binary, cc_test, ...), and of their `deps`, one action
runs grpc-leak-tidy on the file with the flags Bazel would compile it with:
the C++ toolchain's flags and --copt/--cxxopt/--conlyopt, the target's
`copts`, and what its CcInfo compilation context carries (defines, local
defines, include, quote include, system include and framework directories),
with the headers of that context as the action's inputs. Each action writes a
report, `<target>.grpc_leak_tidy/<source path>.txt` beside the target's
outputs (clang-tidy's output for that file), and fails on findings unless
--@grpc_leak_tidy//:fail_on_findings=false. A source that does not compile
always fails its action. Reports are cached like any action: an unchanged
file with unchanged flags and headers is not analysed again.

Summaries (docs/summaries.md): each action also writes the source's
summary, `<target>.grpc_leak_tidy/<source path>.summary.json` (paths in it
relative to the execution root), in the output group grpc_leak_summaries;
and it reads the summaries of the target's deps, their sources among its
inputs, so that a call into a dependency is looked up there. Bazel's
dependency order is the callee-first order across targets; sources of one
target do not see each other's summaries.

Settings (bazel/BUILD.bazel): //:tidy (the binary), //:checks,
//:fail_on_findings, //:external (also analyse @other//... targets),
//:config (a .clang-tidy file label). Tested with Bazel 4.2.3 (docs/ci.md).
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "C_COMPILE_ACTION_NAME", "CPP_COMPILE_ACTION_NAME")

GrpcLeakTidySummariesInfo = provider(
    doc = "The summaries of a target and its deps, with the sources they were made from.",
    fields = ["summaries", "sources"],
)

GrpcLeakTidySettingInfo = provider(
    doc = "The value of a grpc-leak-tidy build setting.",
    fields = ["value"],
)

def _setting_impl(ctx):
    return [GrpcLeakTidySettingInfo(value = ctx.build_setting_value)]

grpc_leak_tidy_string_setting = rule(
    implementation = _setting_impl,
    build_setting = config.string(flag = True),
    doc = "A string setting of the grpc-leak-tidy aspect.",
)

grpc_leak_tidy_bool_setting = rule(
    implementation = _setting_impl,
    build_setting = config.bool(flag = True),
    doc = "A boolean setting of the grpc-leak-tidy aspect.",
)

_C_EXTENSIONS = ["c"]
_CXX_EXTENSIONS = ["cc", "cpp", "cxx", "c++", "C", "cu"]

# Flags of GCC toolchains that Clang (and so grpc-leak-tidy) rejects.
_GCC_ONLY_FLAGS = [
    "-fno-canonical-system-headers",
    "-fno-tree-pre",
    "-fno-ipa-cp-clone",
    "-fno-partial-inlining",
]

def _usable(flag):
    return flag not in _GCC_ONLY_FLAGS and "$(" not in flag

def _toolchain_flags(ctx, cc_toolchain, action_name, user_flags):
    feature_configuration = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    variables = cc_common.create_compile_variables(
        feature_configuration = feature_configuration,
        cc_toolchain = cc_toolchain,
        user_compile_flags = user_flags,
    )
    return cc_common.get_memory_inefficient_command_line(
        feature_configuration = feature_configuration,
        action_name = action_name,
        variables = variables,
    )

def _context_flags(compilation_context):
    flags = []
    for define in compilation_context.defines.to_list():
        flags.append("-D" + define)
    if hasattr(compilation_context, "local_defines"):
        for define in compilation_context.local_defines.to_list():
            flags.append("-D" + define)
    for directory in compilation_context.includes.to_list():
        flags.append("-I" + directory)
    for directory in compilation_context.quote_includes.to_list():
        flags.append("-iquote" + directory)
    for directory in compilation_context.system_includes.to_list():
        flags.append("-isystem" + directory)
    if hasattr(compilation_context, "framework_includes"):
        for directory in compilation_context.framework_includes.to_list():
            flags.append("-F" + directory)
    return flags

def _sources(ctx):
    sources = []
    for src in getattr(ctx.rule.attr, "srcs", []):
        for f in src.files.to_list():
            if f.is_source and f.extension in _C_EXTENSIONS + _CXX_EXTENSIONS:
                sources.append(f)
    return sources

def _transitive_reports(ctx):
    reports = []
    for dep in getattr(ctx.rule.attr, "deps", []):
        if OutputGroupInfo in dep and hasattr(dep[OutputGroupInfo], "grpc_leak_tidy"):
            reports.append(dep[OutputGroupInfo].grpc_leak_tidy)
    return reports

def _deps_summaries(ctx):
    """The GrpcLeakTidySummariesInfo of the deps, merged."""
    summaries, sources = [], []
    for dep in getattr(ctx.rule.attr, "deps", []):
        if GrpcLeakTidySummariesInfo in dep:
            summaries.append(dep[GrpcLeakTidySummariesInfo].summaries)
            sources.append(dep[GrpcLeakTidySummariesInfo].sources)
    return GrpcLeakTidySummariesInfo(
        summaries = depset(transitive = summaries),
        sources = depset(transitive = sources),
    )

def _grpc_leak_tidy_aspect_impl(target, ctx):
    transitive = _transitive_reports(ctx)
    known = _deps_summaries(ctx)
    external = ctx.attr._external[GrpcLeakTidySettingInfo].value
    if (CcInfo not in target or
        (target.label.workspace_root.startswith("external/") and not external)):
        return [
            OutputGroupInfo(
                grpc_leak_tidy = depset(transitive = transitive),
                grpc_leak_summaries = known.summaries,
            ),
            known,
        ]

    tidy = ctx.attr._tidy[GrpcLeakTidySettingInfo].value
    checks = ctx.attr._checks[GrpcLeakTidySettingInfo].value
    fail = ctx.attr._fail_on_findings[GrpcLeakTidySettingInfo].value
    config_files = ctx.attr._config.files.to_list()
    config = config_files[0] if config_files else None

    compilation_context = target[CcInfo].compilation_context
    cc_toolchain = find_cpp_toolchain(ctx)
    context_flags = _context_flags(compilation_context)
    rule_copts = [f for f in getattr(ctx.rule.attr, "copts", []) if _usable(f)]
    cpp = ctx.fragments.cpp
    c_flags = [f for f in _toolchain_flags(ctx, cc_toolchain, C_COMPILE_ACTION_NAME, cpp.copts + cpp.conlyopts) if _usable(f)]
    cxx_flags = [f for f in _toolchain_flags(ctx, cc_toolchain, CPP_COMPILE_ACTION_NAME, cpp.copts + cpp.cxxopts) if _usable(f)]

    inputs_common = [compilation_context.headers, known.summaries, known.sources]
    reports = []
    summaries = []
    sources = _sources(ctx)
    for src in sources:
        report = ctx.actions.declare_file("%s.grpc_leak_tidy/%s.txt" % (target.label.name, src.short_path))
        summary = ctx.actions.declare_file("%s.grpc_leak_tidy/%s.summary.json" % (target.label.name, src.short_path))
        flags = (c_flags if src.extension in _C_EXTENSIONS else cxx_flags) + rule_copts + context_flags
        args = ctx.actions.args()
        args.add(tidy)
        args.add(report)
        args.add("1" if fail else "0")
        args.add(checks)
        args.add(config.path if config else "")
        args.add(src)
        args.add(summary)
        args.add_all(known.summaries)
        args.add("--")
        args.add_all(flags)
        direct = [src] + ([config] if config else [])
        ctx.actions.run(
            executable = ctx.executable._runner,
            arguments = [args],
            inputs = depset(direct = direct, transitive = inputs_common),
            outputs = [report, summary],
            mnemonic = "GrpcLeakTidy",
            progress_message = "grpc-leak-tidy %s" % src.short_path,
            use_default_shell_env = True,
        )
        reports.append(report)
        summaries.append(summary)
    return [
        OutputGroupInfo(
            grpc_leak_tidy = depset(direct = reports, transitive = transitive),
            grpc_leak_summaries = depset(direct = summaries, transitive = [known.summaries]),
        ),
        GrpcLeakTidySummariesInfo(
            summaries = depset(direct = summaries, transitive = [known.summaries]),
            sources = depset(direct = sources, transitive = [known.sources]),
        ),
    ]

grpc_leak_tidy_aspect = aspect(
    implementation = _grpc_leak_tidy_aspect_impl,
    attr_aspects = ["deps"],
    fragments = ["cpp"],
    attrs = {
        "_cc_toolchain": attr.label(default = Label("@bazel_tools//tools/cpp:current_cc_toolchain")),
        "_runner": attr.label(
            default = Label("//:run_grpc_leak_tidy.sh"),
            executable = True,
            cfg = "host",
            allow_single_file = True,
        ),
        "_tidy": attr.label(default = Label("//:tidy")),
        "_checks": attr.label(default = Label("//:checks")),
        "_fail_on_findings": attr.label(default = Label("//:fail_on_findings")),
        "_external": attr.label(default = Label("//:external")),
        "_config": attr.label(default = Label("//:config")),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    doc = "Runs grpc-leak-tidy over the C/C++ sources of cc_* targets and their deps; " +
          "output group grpc_leak_tidy holds one report per source, grpc_leak_summaries " +
          "one summary per source.",
)
