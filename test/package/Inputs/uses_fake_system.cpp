// Control TU for package-code.test: includes a leaky header from a system
// include directory (see fake-system/vendor/leaky_vendor.h).
#include <vendor/leaky_vendor.h>
