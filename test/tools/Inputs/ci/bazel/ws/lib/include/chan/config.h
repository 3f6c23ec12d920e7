// The target every probe connects to.
#pragma once

inline const char* ChanTarget() { return "localhost:50051"; }
