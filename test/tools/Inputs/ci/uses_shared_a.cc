// CI recipes' input: one of two users of shared_probe.h.
#include "shared_probe.h"

bool ProbeA() { return SharedProbe("a:1"); }
