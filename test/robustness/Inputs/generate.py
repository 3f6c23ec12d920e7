#!/usr/bin/env python3
"""Write a large generated C++ input for broken-inputs.test to stdout.

  generate.py nested DEPTH    a leaking channel created at the bottom of
                              DEPTH nested blocks (DEPTH '{', then DEPTH '}')
  generate.py long STATEMENTS one function of STATEMENTS branching statements,
                              with a channel leaked on only one early-return
                              path, then a complete leaking function
  generate.py many HANDLES    one function creating and destroying HANDLES
                              channels, one of which (the middle one) leaks
"""
import sys

HEADER = """#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
"""

COMPLETE = """
void CompleteLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}
"""


def nested(depth):
    out = [HEADER, "void Nested(const char *target, grpc_channel_credentials *creds) {\n"]
    out.append("{" * depth + "\n")
    out.append("grpc_channel *deep = grpc_channel_create(target, creds, nullptr);\n")
    out.append("(void)deep;\n")
    out.append("}" * depth + "\n")
    out.append("}\n")
    out.append(COMPLETE)
    return "".join(out)


def long_function(statements):
    out = [HEADER,
           "int Long(const char *target, grpc_channel_credentials *creds, int x) {\n",
           "  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);\n",
           "  int acc = 0;\n"]
    middle = statements // 2
    for i in range(statements):
        if i == middle:
            out.append("  if (x == -1) return -1;\n")
        elif i % 3 == 0:
            out.append("  if (x > %d) acc += %d; else acc -= %d;\n" % (i, i, i % 7))
        elif i % 3 == 1:
            out.append("  for (int i%d = 0; i%d < (x & 3); ++i%d) acc ^= i%d;\n" % ((i,) * 4))
        else:
            out.append("  switch (acc & 3) { case 0: acc += 1; break; case 1: acc -= 1; break; default: break; }\n")
    out.append("  grpc_channel_destroy(channel);\n")
    out.append("  return acc;\n}\n")
    out.append(COMPLETE)
    return "".join(out)


def many_handles(handles):
    out = [HEADER,
           "void Many(const char *target, grpc_channel_credentials *creds, int x) {\n"]
    for i in range(handles):
        out.append("  grpc_channel *c%d = grpc_channel_create(target, creds, nullptr);\n" % i)
        out.append("  if (x == %d) ++x;\n" % i)
        if i == handles // 2:
            out.append("  (void)c%d;\n" % i)
        else:
            out.append("  grpc_channel_destroy(c%d);\n" % i)
    out.append("}\n")
    return "".join(out)


GENERATORS = {"nested": nested, "long": long_function, "many": many_handles}


def main(argv):
    if len(argv) != 3 or argv[1] not in GENERATORS or not argv[2].isdigit():
        sys.exit(__doc__)
    sys.stdout.write(GENERATORS[argv[1]](int(argv[2])))


if __name__ == "__main__":
    main(sys.argv)
