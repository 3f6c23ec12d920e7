// CI recipes' input: the other user of shared_probe.h.
#include "shared_probe.h"

bool ProbeB() { return SharedProbe("b:1"); }
